"""Peak memory of `physode simulate` for N and 2N samples: streaming keeps it independent of N.

Each size runs `physode simulate transport` in a fresh process and reads that process's peak
resident set (``ru_maxrss``) when it is done; the float64 array the run would hold in memory
unstreamed is printed beside it for scale. Target: 2x the samples, < 20% more peak memory.

    OMP_NUM_THREADS=1 nice python -m benchmarks.physics.simulate_memory

Writes simulate_memory.md next to this script (about a minute; the files go to a temporary folder).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROBE = ("import resource, sys; from physode.cli import main; code = main(sys.argv[1:]); "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")


def peak_rss_mb(samples: int, nx: int, nt: int, folder: Path) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one `physode simulate transport` process."""
    out = folder / f"transport-{samples}.h5"
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PROBE, "simulate", "transport", "--samples", str(samples),
                           "--nx", str(nx), "--nt", str(nt), "--out", str(out)],
                          capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - began
    out.unlink()
    return int(done.stdout.split()[-1]) / 1024, seconds  # ru_maxrss is in kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="N (the second run uses 2N)")
    parser.add_argument("--nx", type=int, default=1024)
    parser.add_argument("--nt", type=int, default=101)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for samples in (10, args.samples, 2 * args.samples):  # 10: the baseline (imports, one small block)
            peak, seconds = peak_rss_mb(samples, args.nx, args.nt, Path(folder))
            array_mb = samples * args.nt * args.nx * 8 / 2**20
            rows.append((samples, array_mb, peak, seconds))
            print(f"{samples} samples: float64 array {array_mb:.0f} MB, peak RSS {peak:.0f} MB, {seconds:.1f} s")
    growth = rows[2][2] / rows[1][2] - 1
    verdict = "met" if growth < 0.2 else "NOT met"
    lines = [
        "# `physode simulate` peak memory, N vs 2N samples (transport, streamed)",
        "",
        f"{args.nt} times x {args.nx} points per sample; one fresh process per row; peak RSS = `ru_maxrss`.",
        "",
        "| samples | float64 array if held whole (MB) | peak RSS (MB) | time (s) |",
        "|---:|---:|---:|---:|",
        *(f"| {s} | {a:.0f} | {p:.0f} | {t:.1f} |" for s, a, p, t in rows),
        "",
        f"Peak memory for 2x the samples ({args.samples} -> {2 * args.samples}) grows by {100 * growth:.1f}% "
        f"(target < 20%: {verdict}). The 10-sample row is the baseline: importing the command line (torch "
        "included) and one small block; a full block of trajectories (64 MB in float64) and its FFTs add the rest.",
        "",
        f"Command: `OMP_NUM_THREADS=1 nice python -m benchmarks.physics.simulate_memory --samples {args.samples} "
        f"--nx {args.nx} --nt {args.nt}`; machine: {platform.machine()}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}.",
    ]
    (HERE / "simulate_memory.md").write_text("\n".join(lines) + "\n")
    print(lines[-3])


if __name__ == "__main__":
    main()
