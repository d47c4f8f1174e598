"""DRAFT, not the benchmark: issue 9 phase-1 feasibility probe (Fourier-operator ODE vs neuraloperator FNO).

Fits one model on one trajectory file and prints its test errors as JSON; phase 2 replaces this
with ``benchmarks/pde/run.py`` (every row side by side, three seeds, ``physode fit``).

- ``--model ode``: :class:`physode.models.FourierODE` (``--variant``, RK4, 2 steps per stored
  interval), pde1d's geometric horizon curriculum over 70% of the steps, one-cycle Adam.
- ``--model fno``: ``neuralop.models.FNO`` (4 layers) trained directly u(t0) -> u(t1..tN) as
  output channels, same split, batches and schedule.

    OMP_NUM_THREADS=1 python benchmarks/pde/probe_draft.py FILE --model ode --epochs 30
    OMP_NUM_THREADS=1 python benchmarks/pde/probe_draft.py FILE --model fno --epochs 150 --lr 1e-3
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch

from physode.io import TrajectoryFile
from physode.models import FourierODE, FourierODEConfig
from physode.trajectory_metrics import nrmse_predicted_times, pdebench_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--model", choices=["ode", "fno"], required=True)
    parser.add_argument("--variant", default="anode")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--modes", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--linear", action="store_true", help="add the linear spectral term L u")
    parser.add_argument("--evolve", default="projection", help="weight groups anodev2 evolves, comma-separated")
    parser.add_argument("--fast-lr", type=float, default=None,
                        help="peak learning rate of the linear term and the evolution (default: --lr)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    with TrajectoryFile(args.file) as data:
        u = data.batch(np.arange(data.n_samples))
        train, test, times = u[data.train], u[data.test], data.t.tolist()
    n_intervals = len(times) - 1
    if args.model == "ode":
        config = FourierODEConfig(variant=args.variant, width=args.width, modes=args.modes, blocks=args.blocks,
                                  linear=args.linear, evolve=tuple(args.evolve.split(",")))
        model: torch.nn.Module = FourierODE(config, channels=1)

        def predict(u0: torch.Tensor, ts: list[float]) -> torch.Tensor:
            return model(u0[:, None], ts)[:, :, 0]
    else:
        from neuralop.models import FNO

        model = FNO(n_modes=(args.modes,), hidden_channels=args.width, in_channels=1, out_channels=n_intervals,
                    n_layers=4)

        def predict(u0: torch.Tensor, ts: list[float]) -> torch.Tensor:
            return torch.cat([u0[:, None], model(u0[:, None])], dim=1)[:, : len(ts)]

    real_params = sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())
    total = args.epochs * math.ceil(len(train) / args.batch)
    # The linear term and the evolution rates are velocities / rates of order one: they need the
    # linear models' larger learning rate, the network its own.
    fast = [p for name, p in model.named_parameters() if name.startswith(("field.linear.", "block.operators."))]
    slow = [p for p in model.parameters() if all(p is not q for q in fast)]
    fast_lr = args.lr if args.fast_lr is None else args.fast_lr
    groups = [{"params": slow, "lr": args.lr}] + ([{"params": fast, "lr": fast_lr}] if fast else [])
    optimizer = torch.optim.Adam(groups)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in groups], total_steps=total,
                                                    pct_start=0.05)
    generator = torch.Generator().manual_seed(args.seed)

    def horizon(step: int) -> int:  # the ODE's curriculum; FNO predicts every time at once
        ramp = 0.7 * total
        if args.model == "fno" or step >= ramp:
            return n_intervals
        return min(n_intervals, max(1, math.ceil(n_intervals ** (step / ramp))))

    start, step = time.perf_counter(), 0
    for epoch in range(args.epochs):
        for chosen in torch.randperm(len(train), generator=generator).split(args.batch):
            batch, h = train[chosen], horizon(step)
            loss = (predict(batch[:, 0], times[: h + 1])[:, 1:] - batch[:, 1 : h + 1]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
        if (epoch + 1) % 5 == 0 or epoch + 1 == args.epochs:
            print(f"epoch {epoch + 1} loss {loss.item():.3e} horizon {h} {time.perf_counter() - start:.0f}s", flush=True)
    fit_s = time.perf_counter() - start
    with torch.no_grad():
        pred = predict(test[:, 0], times)
    final = torch.linalg.vector_norm(pred[:, -1] - test[:, -1], dim=-1) / torch.linalg.vector_norm(test[:, -1], dim=-1)
    print(json.dumps({
        "model": args.model, "variant": args.variant if args.model == "ode" else None,
        "linear": args.linear, "evolve": args.evolve, "params_real": real_params,
        "epochs": args.epochs, "lr": args.lr, "fast_lr": fast_lr, "fit_s": round(fit_s, 1),
        "nrmse_predicted_times": nrmse_predicted_times(pred, test), "final_nrmse": final.mean().item(),
        "pdebench": vars(pdebench_metrics(pred, test)),
    }))


if __name__ == "__main__":
    main()
