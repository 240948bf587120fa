"""Benchmarks: quality (offline ranking metrics) and speed, each printing a table and JSON."""
