"""What the benchmarks share: measurement, peers' training, the run cache and report helpers."""
