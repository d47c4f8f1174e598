"""physode's benchmarks: run each as `python -m benchmarks.<folder>.<script>` from the repository root."""
