"""Peak memory and time per epoch of `physode fit` on 2-D files whose samples do not fit its sample cache.

For each grid (64 x 64 and 128 x 128) one `physode simulate transport2d` file is written; on it, a
2-D linear ANODEV2 fit (`--model linear`, spectral layer) and a 2-D Fourier-ODE fit
(`--model fourier`, its default width, blocks and modes) run, each in a fresh process, for a few
epochs over every stored interval (no curriculum, no polish) with `--cache-mb` far below the file's
training split: the data's share of memory is bounded by the cache. What backpropagation through every
solver stage keeps is not (it grows with the batch, the intervals and the steps): hence the
small defaults, batch 2 and 11 stored times, which keep the 128 x 128 Fourier-ODE fit on a shared machine
(batch 8 on 21 times peaked at 8,600 MiB at 64 x 64 already). Per fit: peak RSS
(``ru_maxrss`` of the process, imports and the final test evaluation included) and the wall time of
each epoch (the differences of `metrics.jsonl`'s ``time_s``). The last two rows fit the linear model
at 128 x 128 to a larger file (198 training samples) with the small cache and with one that holds the
whole split.

    OMP_NUM_THREADS=1 nice python -m benchmarks.pde2d.scale        # from the repository root; a few minutes on one core

Writes ``scale.md``, ``scale.json`` and ``scale.png`` next to this script.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.common.report import table_header, table_row
from physode.io import atomic_path, atomic_write_text
from physode.training import METRICS, read_metrics
from physode.trajectories import TrajectoryFile

HERE = Path(__file__).resolve().parent
GRIDS = (64, 128)
SAMPLES, TEST_FRACTION = 10, 0.2  # 8 training samples
# The file of the last two rows: 198 training samples, 138 MiB at 128 x 128, and as many test samples as
# the small files, so that the final test evaluation (in one batch) costs them the same memory.
LARGE_SAMPLES, LARGE_TEST_FRACTION = 200, 0.01
MODELS = {"linear anodev2": ["--model", "linear", "--variant", "anodev2"],
          "fourier-ODE anodev2": ["--model", "fourier", "--variant", "anodev2"]}
# The child: `physode fit` through its own entry point, then its own peak resident memory.
CHILD = """
import json, resource, sys, time
began = time.perf_counter()
from physode.cli import main
code = main(json.loads(sys.argv[1])) if len(sys.argv) > 1 else 0
print(json.dumps({"code": code, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": time.perf_counter() - began}))
"""


@dataclass(frozen=True)
class Row:
    """One fit's measurement (``epoch_s``: each epoch's wall time)."""

    name: str
    nx: int
    n_train: int
    file_mib: float
    sample_mib: float
    cache_mib: float
    peak_rss_mib: float
    process_s: float
    epoch_s: list[float]


def run_child(argv: list[str] | None) -> dict[str, Any]:
    """Runs ``physode`` with ``argv`` (None: the imports alone) in a fresh single-threaded process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, *([json.dumps(argv)] if argv is not None else [])],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"physode {argv} failed:\n{done.stderr[-3000:]}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    if record["code"] != 0:
        raise SystemExit(f"physode {argv} exited {record['code']}:\n{done.stderr[-3000:]}")
    return record


def simulate(path: Path, nx: int, nt: int, samples: int = SAMPLES, test_fraction: float = TEST_FRACTION) -> Path:
    run_child(["simulate", "transport2d", "--samples", str(samples), "--nx", str(nx), "--nt", str(nt),
               "--test-fraction", str(test_fraction), "--out", str(path), "--no-progress", "-q"])
    return path


def fit(name: str, data: Path, out: Path, args: argparse.Namespace, cache_mib: float) -> Row:
    """One fit of ``MODELS[name]`` in a fresh process."""
    record = run_child(["fit", str(data), "--out", str(out), *MODELS[name], "--epochs", str(args.epochs),
                        "--batch-size", str(args.batch), "--curriculum", "0", "--polish", "0",
                        "--validation-fraction", "0", "--cache-mb", str(cache_mib), "--device", "cpu",
                        "--no-progress", "-q"])
    times = [0.0] + [r["time_s"] for r in read_metrics(out / METRICS) if r.get("phase") is None]
    with TrajectoryFile(data) as f:
        nx, n_train, sample_mib = f.sample_shape[-1], len(f.train), math.prod(f.sample_shape) * 4 / 2**20
    return Row(name, nx, n_train, data.stat().st_size / 2**20, sample_mib, cache_mib, record["peak_rss_mib"],
               record["seconds"], [b - a for a, b in zip(times, times[1:])])


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib  # only the report needs matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    labels = [f"{row.name}, {row.nx}x{row.nx}\n{row.n_train} samples, cache {row.cache_mib:g} MiB" for row in rows]
    axes[0].barh(labels, [row.peak_rss_mib for row in rows])
    axes[0].set_xlabel("peak RSS (MiB)")
    axes[1].barh(labels, [row.epoch_s[-1] for row in rows])
    axes[1].set_xlabel("last epoch (s)")
    axes[1].set_yticklabels([])
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)


def report(rows: list[Row], imports_mib: float, args: argparse.Namespace) -> list[str]:
    columns = ["fit", "grid", "train samples", "file MiB", "sample MiB", "cache MiB", "samples cached", "peak RSS MiB",
               "epoch s (each)", "process s"]
    lines = [
        "# Scale of 2-D fits: peak memory and time per epoch",
        "",
        f"Produced by `python -m benchmarks.pde2d.scale --batch {args.batch} --nt {args.nt} --epochs {args.epochs} "
        f"--cache-mb {args.cache_mb:g}` (`physode simulate transport2d`, {SAMPLES} samples or, in the last two rows, "
        f"{LARGE_SAMPLES}; 2 of them test; {args.nt} stored times, float32; `physode fit` with batch {args.batch}, "
        f"{args.epochs} epochs over every interval, no validation, no polish, on the CPU with one thread; each fit "
        "in a fresh process, peak RSS = its `ru_maxrss`; an epoch's time from `metrics.jsonl`).",
        "",
        *table_header(columns, right_aligned=columns[2:]),
    ]
    for row in rows:
        cached = min(row.n_train, max(1, math.floor(row.cache_mib / row.sample_mib)))
        lines.append(table_row([row.name, f"{row.nx} x {row.nx}", row.n_train, f"{row.file_mib:.1f}",
                                f"{row.sample_mib:.2f}", f"{row.cache_mib:g}", cached, f"{row.peak_rss_mib:.0f}",
                                ", ".join(f"{s:.2f}" for s in row.epoch_s), f"{row.process_s:.1f}"]))
    lines += ["", f"Python with physode and torch imported, nothing else: {imports_mib:.0f} MiB peak RSS.", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-mb", type=float, default=0.5, help="the fits' sample cache (MiB)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per fit")
    parser.add_argument("--batch", type=int, default=2, help="samples per Adam step")
    parser.add_argument("--nt", type=int, default=11, help="stored times of the files")
    parser.add_argument("--work", type=Path, default=None, help="where files and runs go (default: a temporary dir)")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        imports_mib = run_child(None)["peak_rss_mib"]
        for nx in GRIDS:
            began = time.perf_counter()
            data = simulate(work / f"transport2d_{nx}.h5", nx, args.nt)
            print(f"{nx} x {nx}: wrote {data.stat().st_size / 2**20:.1f} MiB in {time.perf_counter() - began:.0f} s",
                  flush=True)
            for name in MODELS:
                rows.append(fit(name, data, work / f"{name.split()[0]}_{nx}", args, args.cache_mb))
                print(json.dumps(asdict(rows[-1])), flush=True)
        large = simulate(work / "transport2d_large.h5", max(GRIDS), args.nt, LARGE_SAMPLES, LARGE_TEST_FRACTION)
        for cache_mib in (args.cache_mb, 256.0):  # 256: physode fit's default cache, here the whole split
            rows.append(fit("linear anodev2", large, work / f"linear_large_{cache_mib:g}", args, cache_mib))
            print(json.dumps(asdict(rows[-1])), flush=True)
    lines = report(rows, imports_mib, args)
    atomic_write_text(HERE / "scale.md", "\n".join(lines))
    options = {**vars(args), "work": None}  # a temporary folder's name says nothing
    atomic_write_text(HERE / "scale.json", json.dumps({"imports_mib": imports_mib, "options": options,
                                                        "rows": [asdict(row) for row in rows]}, indent=2) + "\n")
    plot(rows, HERE / "scale.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
