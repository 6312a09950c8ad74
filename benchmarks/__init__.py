"""Benchmarks run with `scripts/bench NAME`; each prints one JSON line."""
