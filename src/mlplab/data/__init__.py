"""Datasets: sources, the prepared-array store, the seeded split, scaling and batching."""
