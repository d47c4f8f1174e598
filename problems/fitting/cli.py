"""Command line of the field fits: ``physode fit``, ``physode evaluate pde1d``, ``physode predict``,
``physode plot``, ``physode quickstart`` (also what ``physode`` alone runs)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from physode.cli_types import int_in, positive_int
from physode.problems.fitting.family_options import MAX_COUNT
from physode.problems.fitting.fit_parser import DEVICE_HELP, FIT_DEFAULTS, add_fit, add_threads
from physode.training.cli import problem_subparsers

QUICKSTART_DIR = "physode-quickstart"  # quickstart.py's (this module imports no torch: it cannot import it)


# What the commands run imports torch (.commands): each command imports it when it runs, so that
# building the parser (`physode --help`) does not (physode/cli.py).
def _run_fit(args: argparse.Namespace) -> int:
    from physode.problems.fitting.commands import run_fit

    return run_fit(args)


def _run_evaluate(args: argparse.Namespace) -> int:
    from physode.problems.fitting.commands import run_evaluate

    return run_evaluate(args)


def _run_predict(args: argparse.Namespace) -> int:
    from physode.problems.fitting.commands import run_predict

    return run_predict(args)


def _run_plot(args: argparse.Namespace) -> int:
    from physode.problems.fitting.commands import run_plot

    return run_plot(args)


def _run_quickstart(args: argparse.Namespace) -> int:
    from physode.problems.fitting.commands import run_quickstart_command

    return run_quickstart_command(args)


def _add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = problem_subparsers(subparsers, "evaluate", help="evaluate a checkpoint").add_parser(
        "pde1d", help="test nRMSE of a `physode fit` run",
        description="Roll the fitted model out on the test split of its data file (or --data) and report "
        "nRMSE over the predicted times (nrmse_predicted) and at the final time, and PDEBench's metrics "
        "over every time index including the given one (pdebench: nRMSE, RMSE, cRMSE, bRMSE, fRMSE "
        "low/mid/high, max error; batch means averaged over --batch-size blocks as PDEBench does). "
        "Prints the metrics and writes them as JSON.",
    )
    parser.add_argument("run", type=Path, nargs="?", metavar="RUN", help="run directory or its checkpoint.pt")
    parser.add_argument("--checkpoint", type=Path, help="the run's checkpoint.pt instead of RUN (as `evaluate cifar10` takes it)")
    parser.add_argument("--data", type=Path, help="trajectory file (default: the one the run was fit to)")
    parser.add_argument("--out", type=Path, help="metrics JSON (default: RUN/evaluation.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace the metrics JSON if it exists")
    parser.add_argument("--batch-size", type=positive_int(MAX_COUNT), default=FIT_DEFAULTS["eval_batch_size"],
                        help="test samples per block (PDEBench's metrics are means over blocks)")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.set_defaults(func=_run_evaluate)


def _times(text: str) -> list[float]:
    """``--times``: comma-separated times, or ``START:STOP:N`` for N equally spaced ones (both ends)."""
    try:
        if text.count(":") == 2:
            start, stop, count = text.split(":")
            if int(count) < 1 or int(count) > MAX_COUNT:
                raise ValueError
            import numpy as np  # here: building the parser needs no numpy

            values = np.linspace(float(start), float(stop), int(count)).tolist()
        else:
            values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected times such as 0,0.5,1 or 0:2:21 (21 times from 0 to 2), "
                                         f"got {text!r}") from None
    if not all(math.isfinite(v) for v in values) or any(b <= a for a, b in zip(values, values[1:])):
        raise argparse.ArgumentTypeError(f"times must be finite and increasing, got {text!r}")
    return values


def _add_predict(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict", help="write a fitted run's prediction from new initial states as a trajectory file",
        description="Roll the model of a `physode fit` run out from the first frame of each selected sample "
        "of --initial (a trajectory file starting at the run's first time t0, on its grid) and write the "
        "predicted trajectories in the physode layout (xarray.open_dataset(OUT, engine='h5netcdf') opens it). "
        "In Python: physode.load(RUN).predict(u0, times).",
    )
    parser.add_argument("run", type=Path, metavar="RUN", help="run directory or its checkpoint.pt")
    parser.add_argument("--initial", type=Path, required=True, metavar="FILE",
                        help="trajectory file whose first frames are the initial states")
    parser.add_argument("--out", type=Path, required=True, help="trajectory file to write (HDF5)")
    parser.add_argument("--times", type=_times,
                        help="output times from t0 on: 0,0.5,1 or START:STOP:N (default: the times the run was fit on)")
    parser.add_argument("--samples", default="all",
                        help="which samples of --initial: all, train, test, or indices and ranges such as 0,3,10:20")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--batch-size", type=positive_int(MAX_COUNT), default=FIT_DEFAULTS["eval_batch_size"],
                        help="samples predicted at once")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    parser.set_defaults(func=_run_predict)


def _add_plot(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot", help="Figure-2-style comparison of fitted runs (PNG)",
        description="Ground truth against each run's prediction for one test sample at several times, "
        "plus the learned velocity c_hat(t) against the true c(t) when the data file stores c.",
    )
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run directories fit to the same file")
    parser.add_argument("--out", type=Path, required=True, help="PNG file")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--data", type=Path, help="trajectory file (default: the one the runs were fit to)")
    parser.add_argument("--sample", type=int_in(0, None), default=0,
                        help="which test sample (position in the test split)")
    parser.add_argument("--panels", type=positive_int(100), default=6, help="number of snapshot times shown")
    parser.set_defaults(func=_run_plot)


def _add_quickstart(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quickstart", help="end-to-end demo: transport data, ANODE vs ANODEV2, table and figure",
        description="Simulate transport dz/dt = c(t) dz/dx with exponential c(t), fit ANODE, Neural ODE "
        "and ANODEV2, print test nRMSE and fit time, and draw the Figure-2-style comparison (a few "
        "minutes on a laptop CPU). Rerunning reuses finished fits.",
    )
    parser.add_argument("--out", type=Path, default=Path(QUICKSTART_DIR), help="output directory")
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    add_threads(parser)
    parser.set_defaults(func=_run_quickstart)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``fit``, ``evaluate pde1d``, ``predict``, ``plot`` and ``quickstart`` to the ``physode`` command line."""
    add_fit(subparsers, _run_fit)
    _add_evaluate(subparsers)
    _add_predict(subparsers)
    _add_plot(subparsers)
    _add_quickstart(subparsers)
