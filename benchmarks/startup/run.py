"""Start-up time and memory of the ``physode`` command against ``import torch``, side by side.

Run from the repository root: ``python -m benchmarks.startup.run [--repeats 5]``. Each command runs
in a fresh process, ``--repeats`` times; the table gives the median wall time and the peak resident
memory (``ru_maxrss`` of the finished child, read by a wrapper process of its own, so each number
is that one command's). Rows:

- ``physode --version``, ``physode --help``, ``physode fit --help``: the parsers build without torch.
- ``import torch``: the floor of anything that trains with torch.
- torch's first optimizer step: ``torch.optim``'s ``step`` imports ``torch._dynamo`` (and sympy) the
  first time it runs, whether or not anything is compiled: the floor of any training loop here.
- a linear fit: ``physode fit --model linear`` (its other defaults: anodev2) on the quickstart's
  transport file (160 samples x 41 times x 64 points).

Writes ``results.md``, ``results.json`` and ``results.png`` beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common.measure import save_report
from benchmarks.common.report import table_header, table_row

HERE = Path(__file__).resolve().parent
PHYSODE = [sys.executable, "-m", "physode.cli"]
# The quickstart's data (problems/fitting/quickstart.py's DATA).
SIMULATE = ["simulate", "transport", "--samples", "160", "--nx", "64", "--nt", "41", "--t-final", "1",
            "--velocity", "exponential:c0=0.5,a=1.5", "--seed", "0", "--test-fraction", "0.2", "--quiet"]
ADAM_STEP = ("import torch; p = torch.zeros(1, requires_grad=True); o = torch.optim.Adam([p]); "
             "p.sum().backward(); o.step()")
# Runs the command given as its arguments; prints its wall time and its peak resident memory.
WRAPPER = """
import json, resource, subprocess, sys, time
began = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - began
print(json.dumps({"wall_s": wall, "rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measure(command: list[str], repeats: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall time and largest peak RSS of ``command`` over ``repeats`` fresh processes."""
    runs = [json.loads(subprocess.run([sys.executable, "-c", WRAPPER, *command], check=True, env=env,
                                      capture_output=True, text=True).stdout)
            for _ in range(repeats)]
    return {"wall_s": statistics.median(r["wall_s"] for r in runs), "rss_mib": max(r["rss_mib"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="processes per command (the fit runs once)")
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    load = os.getloadavg()[0]  # other processes on the machine slow every row alike
    with tempfile.TemporaryDirectory() as scratch:
        data, run = Path(scratch) / "transport.h5", Path(scratch) / "run"
        subprocess.run([*PHYSODE, *SIMULATE, "--out", str(data)], check=True, env=env)
        rows = {
            "physode --version": measure([*PHYSODE, "--version"], args.repeats, env),
            "physode --help": measure([*PHYSODE, "--help"], args.repeats, env),
            "physode fit --help": measure([*PHYSODE, "fit", "--help"], args.repeats, env),
            "python -c 'import torch'": measure([sys.executable, "-c", "import torch"], args.repeats, env),
            "torch's first Adam step": measure([sys.executable, "-c", ADAM_STEP], args.repeats, env),
            "physode fit FILE --model linear": measure(
                [*PHYSODE, "fit", str(data), "--out", str(run), "--model", "linear", "--quiet"], 1, env),
        }
    torch_rss = rows["python -c 'import torch'"]["rss_mib"]
    lines = ["# Start-up and memory: `physode` against `import torch`", "",
             f"Each command in a fresh process, one thread; wall time: median of {args.repeats} runs (the fit: "
             "one); peak RSS: `ru_maxrss` of the finished process. Re-run: `python -m benchmarks.startup.run`. "
             f"Load average when it started: {load:.1f} ({os.cpu_count()} CPUs).", "",
             *table_header(["command", "wall (s)", "peak RSS (MiB)", "RSS / import torch's"],
                           right_aligned={"wall (s)", "peak RSS (MiB)", "RSS / import torch's"})]
    for name, row in rows.items():
        lines.append(table_row([f"`{name}`" if name.startswith(("physode", "python")) else name,
                                f"{row['wall_s']:.2f}", f"{row['rss_mib']:.0f}", f"{row['rss_mib'] / torch_rss:.2f}"]))
    fit, floor = rows["physode fit FILE --model linear"]["rss_mib"], rows["torch's first Adam step"]["rss_mib"]
    lines += ["", f"The fit's peak RSS is {fit / torch_rss:.2f}x `import torch`'s and {fit - floor:.0f} MiB above torch's "
              f"first optimizer step ({floor / torch_rss:.2f}x): `torch.optim`'s `step` imports `torch._dynamo` and "
              "sympy on its first call, compiled or not, so no training loop with torch's optimizers gets below that "
              "here. The fit imports no matplotlib, scipy, xarray or torchvision (`tests/test_startup.py`)."]
    print("\n".join(lines))
    (HERE / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    save_report(HERE, lines, _figure(rows))


def _figure(rows: dict[str, dict[str, float]]):
    import matplotlib  # only the report needs matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (wall, rss) = plt.subplots(1, 2, figsize=(11, 3.2), sharey=True)
    names = list(rows)[::-1]
    wall.barh(names, [rows[n]["wall_s"] for n in names], color="C0")
    wall.set_xlabel("wall time (s)")
    rss.barh(names, [rows[n]["rss_mib"] for n in names], color="C1")
    rss.set_xlabel("peak RSS (MiB)")
    return figure


if __name__ == "__main__":
    main()
