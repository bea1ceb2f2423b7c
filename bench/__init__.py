"""Benchmarks, run by `make bench` (never by `make test`): each prints its figure with its method, and the
table is also written as JSON under `bench/results/`."""
