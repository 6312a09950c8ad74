"""Benchmarks run by scripts/bench.

Each prints one JSON line with a figure, its baseline measured in the same run, and their
ratio. No timed assertions anywhere: machines are noisy.
"""
