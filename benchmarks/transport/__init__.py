"""The transport benchmark: every variant on four velocities (`python -m benchmarks.transport.run`)."""
