"""Porchlight's federation protocol as a pure library.

Nothing in this package imports Home Assistant: the agency CLI, the demo and the benchmarks use
it directly, and the integration only wraps it.
"""
