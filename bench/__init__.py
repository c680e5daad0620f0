"""Benchmarks: each module prints `name: value` lines."""
