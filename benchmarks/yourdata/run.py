"""Your data, compared: files physode never simulated, ``physode compare`` on each and ``physode fit FILE
--out RUN`` with no other option, against the best FNO peer that compare reports.

The files: KdV from the user-style numpy solver :mod:`.kdv`, and Kuramoto-Sivashinsky and Swift-Hohenberg
from py-pde (:mod:`.pypde`), all in PDEBench's 1-D layout. Each file's comparison runs with ``--budget``
seconds of wall time shared equally by physode's models, the FNO peers trained until their validation
split stops them (converged: compare's default), and the automatic fit with its default budget;
``results.md`` beside this script gets both tables and the verdicts (with the commit and the load that made
them), ``NAME_pareto.png`` and ``NAME_prediction.png`` each file's plots. Run from the repository root::

    python -m benchmarks.yourdata.run [--budget 600] [--work runs/yourdata] [--files kdv,ks,sh]

Every file named is made and fit anew (its folder in ``--work`` replaced); results.md reports every file
with a result in ``--work``, so two processes may run one file each (``--files none`` only rewrites it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common.report import code_revision
from benchmarks.yourdata import kdv, pypde
from physode.cli import main as physode
from physode.io import atomic_path, atomic_write_text

HERE = Path(__file__).resolve().parent
RESULT = "result.json"  # one file's results in its work folder
FILES: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "kdv": ("KdV u_t + 6 u u_x + u_xxx = 0, two solitons (numpy ETDRK4, benchmarks/yourdata/kdv.py)",
            lambda path: kdv.write_file(path)),
    "ks": ("Kuramoto-Sivashinsky, py-pde's scipy solver (benchmarks/yourdata/pypde.py)",
           lambda path: pypde.KS.write_file(path)),
    "sh": ("Swift-Hohenberg, py-pde's scipy solver (benchmarks/yourdata/pypde.py)",
           lambda path: pypde.SH.write_file(path)),
}


def run_file(name: str, work: Path, budget: float) -> dict:
    """Make the file, compare on it, fit it with no options; returns what results.md reports."""
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    load_before, commit = os.getloadavg()[0], code_revision()
    data = FILES[name][1](folder / f"{name}.hdf5")
    began = time.perf_counter()
    if physode(["compare", str(data), "--out", str(folder / "compare"), "--budget", str(budget)]) != 0:
        raise SystemExit(f"physode compare failed on {data}")
    compare_s = time.perf_counter() - began
    began = time.perf_counter()
    if physode(["fit", str(data), "--out", str(folder / "fit")]) != 0:
        raise SystemExit(f"physode fit failed on {data}")
    fit_s = time.perf_counter() - began
    for plot in ("pareto", "prediction"):
        with atomic_path(HERE / f"{name}_{plot}.png") as tmp:
            shutil.copyfile(folder / "compare" / f"{plot}.png", tmp)
    summary = json.loads((folder / "fit" / "metrics.json").read_text())
    return {"name": name, "label": FILES[name][0], "budget_s": budget, "compare_wall_s": compare_s,
            "fit_wall_s": fit_s, "table": (folder / "compare" / "results.md").read_text(),
            "entries": json.loads((folder / "compare" / "results.json").read_text())["entries"],
            "fit": {key: summary[key]
                    for key in ("test_nrmse", "test_final_nrmse", "params", "fit_time_s", "epochs_run")},
            "choice": summary["choice"], "commit": commit, "load": [load_before, os.getloadavg()[0]]}


def verdict(result: dict) -> str:
    """The automatic fit against the best FNO peer: met when at or below it."""
    fno = [e for e in result["entries"] if e["kind"] == "peer"]
    best = min(fno, key=lambda e: e["test_nrmse"])
    mine = result["fit"]["test_nrmse"]
    met = "met" if mine <= best["test_nrmse"] else "not met"
    return (f"`physode fit FILE --out RUN` (chose {result['choice']['chosen']}, {result['fit']['epochs_run']} epochs, "
            f"{result['fit']['fit_time_s']:.0f} s of fit, {result['fit_wall_s']:.0f} s wall with the choice): "
            "test nRMSE "
            f"{mine:.3e}, final time {result['fit']['test_final_nrmse']:.3e}; best FNO peer {best['name']} "
            f"{best['test_nrmse']:.3e} ({best['fit_seconds']:.0f} s, stopped by {best['stopped']}): **{met}** "
            f"(at or below the best FNO peer's test nRMSE).")


def report(results: list[dict]) -> str:
    lines = ["# Your data: physode compare and physode fit on files physode never simulated", "",
             "Made by `python -m benchmarks.yourdata.run`; each section names the commit that made it and the "
             "machine's load average as it began and ended (every budget is wall time, so a loaded machine trains "
             "less in it). The FNO peers train until their validation split stops them (converged), outside the "
             "budget; physode's rows in compare share `--budget`, and `physode fit` has its own default budget. "
             "Experiments by hand, on these files and earlier code: [notes.md](notes.md).", ""]
    for result in results:
        lines += [f"## {result['label']}", "",
                  f"`physode compare` with `--budget {result['budget_s']:g}` "
                  f"({result['compare_wall_s']:.0f} s wall{_made(result)}):",
                  "", *result["table"].splitlines()[4:], "", verdict(result), "",
                  f"![pareto]({result['name']}_pareto.png) ![prediction]({result['name']}_prediction.png)", ""]
    return "\n".join(lines)


def _made(result: dict) -> str:
    """Which code made ``result`` and the machine's load (1-minute average) as it began and ended: budgets are
    wall time, so the load sets how much a budgeted fit trains. Results from before these were recorded: none."""
    if "commit" not in result:
        return ""
    return f", commit `{result['commit']}`, load average {result['load'][0]:.1f} then {result['load'][1]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="physode compare's --budget per file (seconds)")
    parser.add_argument("--work", type=Path, default=Path("runs/yourdata"), help="where the files and runs go")
    parser.add_argument("--files", default=",".join(FILES),
                        help=f"comma-separated, of {', '.join(FILES)}; none: only rewrite results.md from --work")
    args = parser.parse_args()
    for name in [] if args.files == "none" else args.files.split(","):
        atomic_write_text(args.work / name / RESULT, json.dumps(run_file(name, args.work, args.budget), indent=2))
    done = [args.work / name / RESULT for name in FILES if (args.work / name / RESULT).exists()]
    atomic_write_text(HERE / "results.md", report([json.loads(path.read_text()) for path in done]))
    print(f"wrote {HERE / 'results.md'}")


if __name__ == "__main__":
    main()
