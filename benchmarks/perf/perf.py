"""physode against torchdiffeq, side by side, per training step.

The same ODE block — a ResNet-10-width conv residual branch (16 channels, 32x32) and the
transport model (a periodic 5-point stencil on a 1-D field) — integrated with the same fixed-step
method and step count by physode (`backprop`, `checkpoint`, `recursive`, `adjoint`; static and
ANODEV2 evolving weights) and by torchdiffeq (`odeint`, `odeint_adjoint`; static weights: it has
no weight evolution). Per configuration, in a fresh subprocess: median time of a training step
(forward + backward), peak memory, and the gradient's relative error against float64 backprop.
Also measured: Revolve (`recursive` with 8 snapshots) at the largest Nt, the memory of a
ResNet-10 ANODEV2 (config one) training step against the baseline's, the share of that step spent
evolving the weights, and adaptive stepping side by side with torchdiffeq (`adaptive.py`:
dopri5 on Lotka-Volterra and a conv ODE block, NFE, time, memory, gradient error).

    pip install -e ".[bench]"                 # torchdiffeq, benchmark-only
    python -m benchmarks.perf.perf            # writes results.md and results.png here
    python -m benchmarks.perf.perf --device cuda

This module is the command line and the worker's entry; ``solvers.py`` holds the blocks and each
implementation's solve, ``sections.py`` what is measured, ``workers.py`` one configuration in its
process, ``adaptive.py`` the adaptive section and ``report.py`` the targets, tables and plot.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks.perf import adaptive, sections, smallfield, workers
from benchmarks.perf.report import write_results
from physode.io import atomic_write_text

HERE = Path(__file__).resolve().parent
STEPS = (2, 5, 10, 20, 50)
SECTIONS = ("fixed", "ratios", "resnet", "adaptive", "small")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--method", default="euler", help="fixed-step method shared by both libraries")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per configuration (median)")
    parser.add_argument("--resnet-batch", type=int, default=128, help="batch of the ResNet-10 steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nt", type=int, nargs="+", default=list(STEPS), help="step counts of the sweep")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="measure only these sections; the others come from OUT/results.json of an earlier run")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite results.md and results.png from OUT/results.json, measuring nothing")
    parser.add_argument("--note", default="", help="a line under the title of results.md (e.g. how loaded the machine was)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("model", "weights", "impl", "dtype", "json-out", "grad-out"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        workers.worker(args)
        return

    # Raw figures of every section are kept in results.json; --sections re-measures some of them.
    measured = () if args.report_only else args.sections
    saved = json.loads((args.out / "results.json").read_text()) if set(measured) != set(SECTIONS) else {}
    command = "python -m benchmarks.perf.perf" + "".join(" " + a for a in sys.argv[1:])
    results = {"commands": saved.get("commands", {})}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        runs = (("fixed", sections.measure_fixed), ("ratios", sections.measure_ratios),
                ("resnet", sections.measure_resnet), ("adaptive", adaptive.run), ("small", smallfield.run))
        for section, run in runs:
            if section in measured:
                results[section] = run(args, tmp, sections.measure)
                results["commands"][section] = command
            elif section in saved:
                results[section] = saved[section]
    atomic_write_text(args.out / "results.json", json.dumps(results, indent=1) + "\n")
    write_results(args, results, sections.float64_equality())


if __name__ == "__main__":
    main()
