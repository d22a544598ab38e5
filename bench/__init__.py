"""Benchmarks (not tests): scripts that print numbers. See bench/README.md."""
