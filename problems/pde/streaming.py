"""How much ``physode simulate`` holds in memory, and the block-by-block writer of the simulators that
give each sample independently (:func:`write_in_blocks`).

The exact solvers (and the 2-D transport and wave) give each sample independently of the others,
so they are simulated block by block from initial states drawn up front; the stiff solvers pick
one step for all samples and hold the whole array (about three float64 copies while they run).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from physode.trajectories import Trajectories

BLOCK_BYTES = 64 * 2**20
"""Float64 trajectories simulated at once when streaming: peak memory does not grow with --samples."""
IN_MEMORY_COPIES = 3
"""Float64 copies of the trajectories a solver holds while it runs."""


def write_in_blocks(args: argparse.Namespace, u0: np.ndarray, per_block: int,
                    simulate: Callable[[int, np.ndarray], Trajectories]) -> Path:
    """Write ``simulate(n, initial_states)`` to ``args.out`` ``per_block`` samples at a time: memory holds
    one block, not the file. The initial states ``u0`` of all samples are drawn up front (as the
    in-memory simulators draw them), so the file equals the one an unblocked run writes."""
    from physode.trajectories import make_test_mask, trajectory_writer

    first = simulate(min(per_block, args.samples), u0[:per_block])
    settings = {**first.settings, "initial": args.initial, "n_samples": args.samples,
                "seed": args.seed, "test_fraction": args.test_fraction}
    mask = make_test_mask(args.samples, args.test_fraction, args.seed)
    with trajectory_writer(args.out, args.samples, first.t, first.x, equation=first.equation,
                           coefficients=first.coefficients, test_mask=mask, generator=settings, seed=args.seed,
                           attrs=first.parameters, compression=args.compression, channels=first.channels,
                           boundary_condition=first.boundary_condition, replace=args.overwrite) as writer:
        writer.write(first.u)
        for start in range(per_block, args.samples, per_block):
            block = u0[start : start + per_block]
            writer.write(simulate(len(block), block).u)
    return args.out
