"""How much ``physode simulate`` holds in memory.

The exact solvers (and the 2-D transport and wave) give each sample independently of the others,
so they are simulated block by block from initial states drawn up front; the stiff solvers pick
one step for all samples and hold the whole array (about three float64 copies while they run).
"""

BLOCK_BYTES = 64 * 2**20
"""Float64 trajectories simulated at once when streaming: peak memory does not grow with --samples."""
IN_MEMORY_COPIES = 3
"""Float64 copies of the trajectories a solver holds while it runs."""
