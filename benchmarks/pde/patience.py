"""Why the peers' patiences are long: the direct FNO on the quick diffusion file (``run --quick``'s) early-
stopped with short and with the default patiences, beside the FNO the reviewer of issue 26 trained (MSE,
one-cycle Adam peaking at 3e-3, a fixed epoch count, every training sample, no validation), side by side in
one run.

    OMP_NUM_THREADS=1 nice python -m benchmarks.pde.patience      # writes patience.md beside this script
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common.report import fmt, table_header, table_row
from benchmarks.pde.rows import write_row
from physode.io import atomic_write_text
from physode.problems.fitting.schedule import one_cycle
from physode.problems.peers import PeerData, Schedule, fit_peer
from physode.problems.peers.fno import DirectTask
from physode.trajectories import TrajectoryFile, rollout_errors

HERE = Path(__file__).resolve().parent


def one_cycle_fno(data: PeerData, u0: torch.Tensor, epochs: int, seed: int) -> tuple[torch.Tensor, float]:
    """The reviewer's FNO (the benchmark's FNO before the peers package): MSE, one-cycle Adam (peak 3e-3) for
    ``epochs`` over fit and validation samples alike."""
    began = time.perf_counter()
    torch.manual_seed(seed)
    model, task = DirectTask.build(data, 16)
    samples = torch.cat([data.fit, data.validation])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = one_cycle(optimizer, epochs * -(-len(samples) // 16))
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for chosen in torch.randperm(len(samples), generator=generator).split(16):
            loss = (task.every_time(model, samples[chosen, 0])[:, 1:] - samples[chosen, 1:]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    with torch.no_grad():
        return task(model, u0, data.times), time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one-cycle-epochs", type=int, default=1000)
    parser.add_argument("--max-epochs", type=int, default=None, help="cap the early-stopped fits (a smoke test)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    path, _, _ = write_row(Path(tempfile.mkdtemp(prefix="pde-patience-")), "diffusion", quick=True)
    data = PeerData.from_file(path, seed=0)
    with TrajectoryFile(path) as file:
        true = file.batch(file.test)[:, :, None]
    lines = table_header(["FNO training", "epochs", "stopped", "fit (s)", "test nRMSE"],
                         right_aligned={"epochs", "fit (s)", "test nRMSE"})
    for label, schedule in (("early stopping, patiences 10 (lr) and 50", Schedule(lr_patience=10, patience=50)),
                            ("early stopping, the peers' default patiences 30 and 100", Schedule())):
        fit = fit_peer("fno", data, seed=0, schedule=schedule, max_epochs=args.max_epochs)
        error = rollout_errors(fit.predict(true[:, 0], data.times), true).nrmse_predicted
        lines.append(table_row([label, fit.epochs, fit.stopped, f"{fit.fit_seconds:.0f}", fmt(error)]))
    pred, seconds = one_cycle_fno(data, true[:, 0], args.one_cycle_epochs, seed=0)
    lines.append(table_row([f"one-cycle Adam, peak 3e-3, {args.one_cycle_epochs} epochs (issue 26's reviewer)",
                            args.one_cycle_epochs, "epoch count", f"{seconds:.0f}",
                            fmt(rollout_errors(pred, true).nrmse_predicted)]))
    command = "OMP_NUM_THREADS=1 nice python -m benchmarks.pde.patience"
    report = "\n".join(["# The peers' patience: the direct FNO on the quick diffusion file, seed 0", "",
                        f"`{command}` (one thread; fit times depend on the machine's load)", "", *lines]) + "\n"
    if args.max_epochs is None and args.one_cycle_epochs == 1000:
        atomic_write_text(HERE / "patience.md", report)
    print(report)


if __name__ == "__main__":
    main()
