"""The linear family's two solvers side by side: per-mode step matrices against the stage loop.

One training step (forward + backward of the mean squared error over every stored time) of the
quickstart's model (advecting at c = 0.5, 64 points, 41 stored times on [0, 1], 2 RK4 steps per interval, float32) per
variant, at Adam's batch (16) and at the polish's full training batch (128), both solvers in the
same process one after the other; plus the largest difference of their predictions. Run from the
repository root::

    OMP_NUM_THREADS=1 python -m benchmarks.perf.linear [--repeats 20]

It prints the table and writes ``benchmarks/perf/linear.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
from pathlib import Path

import numpy as np
import torch

from benchmarks.common.measure import measure_training_step
from benchmarks.common.report import table_header, table_row
from physode.problems.fitting.models import ModelConfig, build_model

VARIANTS = ("anode", "anodev2", "anodev2-latent", "galerkin")
BATCHES = (16, 128)
NX, TIMES = 64, np.linspace(0.0, 1.0, 41).tolist()
OUT = Path(__file__).with_name("linear.md")


def _step_time(model: torch.nn.Module, u: torch.Tensor, repeats: int) -> float:
    def step() -> None:
        model.zero_grad(set_to_none=True)
        ((model(u[:, 0], TIMES) - u) ** 2).mean().backward()

    return measure_training_step(step, torch.device("cpu"), repeats)["time_ms"]


def measure(variant: str, batch: int, repeats: int) -> list[object]:
    torch.manual_seed(0)
    x = np.arange(NX) / NX
    stages = build_model(ModelConfig(variant=variant, solver="stages"), x)
    with torch.no_grad():
        stages.layer.weight[..., 1] += 0.5  # the quickstart's transport at c = 0.5: a field that moves
    multipliers = build_model(dataclasses.replace(stages.config, solver="multipliers"), x)
    multipliers.load_state_dict(stages.state_dict())
    u = torch.randn(batch, len(TIMES), NX)
    with torch.no_grad():
        difference = (stages(u[:, 0], TIMES) - multipliers(u[:, 0], TIMES)).abs().max().item()
        scale = stages(u[:, 0], TIMES).abs().max().item()
    slow, fast = _step_time(stages, u, repeats), _step_time(multipliers, u, repeats)
    return [variant, batch, f"{slow:.1f}", f"{fast:.1f}", f"{slow / fast:.1f}x", f"{difference / scale:.1e}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    columns = ["variant", "batch", "stages (ms)", "multipliers (ms)", "speed-up", "max abs difference / max abs u"]
    lines = [f"# Linear family: step matrices vs stage loop ({platform.processor() or platform.machine()}, "
             f"1 thread, torch {torch.__version__}, median of {args.repeats} training steps)", "",
             *table_header(columns, right_aligned=columns[1:])]
    for variant in VARIANTS:
        for batch in BATCHES:
            lines.append(table_row(measure(variant, batch, args.repeats)))
            print(lines[-1], flush=True)
    lines += ["", "Load average (1, 5, 15 min) at the end: " + ", ".join(f"{v:.1f}" for v in os.getloadavg())
              + f" on {os.cpu_count()} CPUs (a shared machine's load slows both columns alike)."]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
