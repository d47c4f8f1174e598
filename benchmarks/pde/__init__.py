"""The PDE benchmark: physode's ODE models against FNO, row by row (`python -m benchmarks.pde.run`)."""
