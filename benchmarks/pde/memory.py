"""Peak memory of `physode fit` is bounded by its sample cache, not by the size of the data file.

Two transport files on PDEBench's grid (1,024 points; 101 stored times, half of PDEBench's 201 to
keep the run short) are written with the streaming writer: a small one that fits in the sample
cache and a large one at least four times the cache. The same fit (same model, batch, number of
steps and test-split size) runs on each in a fresh process, whose peak resident memory
(``ru_maxrss``) is read at its end. A third fit on the large file with a cache larger than the
file shows what holding the whole split would cost. Target: large / small <= 1.2.

    OMP_NUM_THREADS=1 nice python -m benchmarks.pde.memory        # from the repository root; a few minutes on one core

Writes ``memory.md`` and ``memory.json`` next to this script.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from physode.io import atomic_write_text
from physode.trajectories import make_test_mask, trajectory_writer
from physode.problems.pde import simulate_transport

HERE = Path(__file__).resolve().parent
NX, NT, T_FINAL, VELOCITY = 1024, 101, 1.0, "exponential:c0=0.5,a=1.5"
N_TEST, BATCH, BLOCK = 8, 16, 32
TARGET = 1.2

CHILD = """
import json, resource, sys, time
began = time.perf_counter()
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig
args = json.loads(sys.argv[1])
if args["data"] is not None:
    model = ModelConfig(variant="anodev2", steps_per_interval=1, modes=16)
    config = FitConfig(model=model, epochs=args["epochs"], batch_size=args["batch"], curriculum=0.0,
                       eval_every=0, checkpoint_every=args["epochs"], cache_mb=args["cache_mb"], progress=False,
                       polish=2)  # two full-batch polish passes (chunked like the batches), not the default 200
    fit(args["data"], args["out"], config, device="cpu")
print(json.dumps({"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": time.perf_counter() - began}))
"""


def write_file(path: Path, n_samples: int) -> Path:
    """Exact transport trajectories streamed block by block (the writer holds one block)."""
    t = np.linspace(0.0, T_FINAL, NT)
    mask = make_test_mask(n_samples, N_TEST / n_samples, seed=0)
    first = simulate_transport(1, NX, t, VELOCITY, seed=0)
    with trajectory_writer(path, n_samples, t, first.x, equation=first.equation, test_mask=mask,
                           coefficients=first.coefficients, generator={"benchmark": "memory"}) as writer:
        for block, start in enumerate(range(0, n_samples, BLOCK)):
            writer.write(simulate_transport(min(BLOCK, n_samples - start), NX, t, VELOCITY, seed=block).u)
    return path


def measure(data: Path | None, out: Path, steps: int, cache_mb: float) -> dict[str, Any]:
    """Peak RSS and wall time of one fit (or of the imports alone, ``data=None``) in a fresh process."""
    n_train = 0
    if data is not None:
        from physode.trajectories import TrajectoryFile

        with TrajectoryFile(data) as f:
            n_train = len(f.train)
    steps_per_epoch = max(1, -(-n_train // BATCH))
    args = {"data": None if data is None else str(data), "out": str(out), "batch": BATCH,
            "epochs": max(1, steps // steps_per_epoch), "cache_mb": cache_mb}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"fit failed:\n{done.stderr[-3000:]}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record.update(steps=args["epochs"] * steps_per_epoch if data is not None else 0, cache_mb=cache_mb)
    if data is not None:
        record.update(file_mib=data.stat().st_size / 2**20, n_train=n_train)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-mb", type=float, default=32.0, help="the fits' sample cache")
    parser.add_argument("--factor", type=float, default=4.5, help="large file size / cache size")
    parser.add_argument("--work", type=Path, default=None, help="where the files go (default: a temporary dir)")
    args = parser.parse_args()
    sample_mib = NT * NX * 4 / 2**20
    n_large = int(np.ceil(args.factor * args.cache_mb / sample_mib)) + N_TEST
    n_small = BATCH + N_TEST  # one batch of training samples: far below the cache
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        small, large = write_file(work / "small.h5", n_small), write_file(work / "large.h5", n_large)
        print(f"wrote {n_small} and {n_large} samples in {time.perf_counter() - began:.0f} s", flush=True)
        steps = -(-(n_large - N_TEST) // BATCH)  # one epoch of the large file
        rows = {"imports only": measure(None, work / "none", 0, args.cache_mb)}
        for name, data, cache in (("small file", small, args.cache_mb), ("large file", large, args.cache_mb),
                                  ("large file, cache > file", large, 4 * args.factor * args.cache_mb)):
            rows[name] = measure(data, work / name.replace(" ", "_").replace(",", "").replace(">", "gt"),
                                 steps, cache)
            print(name, json.dumps(rows[name]), flush=True)
    ratio = rows["large file"]["peak_rss_mib"] / rows["small file"]["peak_rss_mib"]
    met = ratio <= TARGET
    lines = [
        "# Peak memory of `physode fit`: bounded by the sample cache",
        "",
        f"Produced by `benchmarks/pde/memory.py` (transport data, {NX} points x {NT} times, float32; "
        f"ANODEV2 spectral with 16 modes, batch {BATCH}, {steps} steps, full horizon, {N_TEST} test samples; "
        "each fit in a fresh process, peak RSS = `ru_maxrss`).",
        "",
        "| run | samples (train) | file MiB | cache MiB | steps | peak RSS MiB | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(f"| {name} | {row.get('n_train', '-')} | {row.get('file_mib', 0):.1f} | {row['cache_mb']:.0f} | "
                     f"{row['steps']} | {row['peak_rss_mib']:.1f} | {row['seconds']:.1f} |")
    lines += [
        "",
        f"**Large file ({rows['large file']['file_mib']:.0f} MiB, "
        f"{rows['large file']['file_mib'] / args.cache_mb:.1f}x the cache) / small file: peak RSS ratio "
        f"{ratio:.3f}** (target <= {TARGET}): {'met' if met else 'NOT met'}.",
        "The last row lets the cache hold the whole training split: the memory a fit that loads its file "
        "would need, which grows with the file (a full PDEBench file is ~8 GB).",
        "",
    ]
    atomic_write_text(HERE / "memory.md", "\n".join(lines))
    atomic_write_text(HERE / "memory.json", json.dumps({"rows": rows, "ratio": ratio, "target": TARGET,
                                                         "met": met}, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
