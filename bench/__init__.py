"""Benchmarks of the portal on the full-size synthetic Hanoi (`make bench`); see BENCHMARKS.md."""
