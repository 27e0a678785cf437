"""Benchmarks behind `make bench`: measurements printed as a table, never pass/fail timing tests."""
