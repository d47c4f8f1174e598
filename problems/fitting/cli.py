"""Command line of the field fits: ``physode fit``, ``physode evaluate pde1d``, ``physode predict``,
``physode plot``, ``physode quickstart`` (also what ``physode`` alone runs)."""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

import numpy as np
import torch

from physode.cli_types import fraction, int_in, learning_rate, positive_int, seed
from physode.errors import InputError
from physode.problems.fitting.evaluate import SUMMARY, evaluate_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import POLISH, POLISH_PER_PARAMETER, FitConfig
from physode.problems.fitting.loss import LOSSES
from physode.problems.fitting.samples import DEFAULT_VALIDATION, MIN_VALIDATION
from physode.problems.fitting.models import FourierModelConfig, ModelConfig, ModelFamily, family_named, family_names
from physode.problems.fitting.models.family import MAX_COUNT
from physode.problems.fitting.plot import plot_runs
from physode.problems.fitting.predict import predict_file
from physode.problems.fitting.quickstart import QUICKSTART_DIR, format_table, run_quickstart
from physode.training import add_progress_option, check_finite_metrics, problem_subparsers, strict_json
from physode.variants import get_variant, variant_names

_FIT, _MODEL, _FOURIER = FitConfig(), ModelConfig(), FourierModelConfig()
_DEVICE_HELP = "auto (CUDA if present), cpu, cuda or cuda:N"
MAX_STEPS_PER_INTERVAL = 10_000


class _DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default once, except None (those options' help says what the default is,
    e.g. one that depends on --model) and a flag's False."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default in (None, False) else super()._get_help_string(action)


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads", type=positive_int(1024), default=1,
        help="CPU threads for torch's operations. Each solver step works on a few kilobytes, so more "
             "threads only add synchronisation: on a shared 2-core machine 2 threads ran 10x slower than 1",
    )


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def _add_fit(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit", help="fit an ODE model (one linear layer or a Fourier network) to a 1-D trajectory file",
        description="Given u(t0), learn to predict u at every stored time of a 1-D periodic trajectory "
        "file (physode format or PDEBench 1D). Writes checkpoint.pt, metrics.jsonl (one record per "
        "epoch) and metrics.json (test nRMSE) to --out; a killed run continues with --resume.",
        formatter_class=_DefaultsHelp,
    )
    parser.add_argument("data", type=Path, metavar="FILE", help="trajectory file (HDF5)")
    parser.add_argument("--out", type=Path, required=True, help="run directory")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its checkpoint (a fresh run if it has none)")
    model = parser.add_argument_group("model")
    families = family_names()
    model.add_argument("--model", choices=families, default=_MODEL.family,
                       help="; ".join(f"{name}: {family_named(name).summary}" for name in families))
    model.add_argument("--variant", choices=variant_names(), default=_MODEL.variant,
                       help="; ".join(f"{name}: {get_variant(name).summary}" for name in variant_names()))
    model.add_argument("--modes", type=positive_int(MAX_COUNT),
                       help=f"Fourier modes kept (default: all for linear, {_FOURIER.modes} for fourier)")
    model.add_argument("--steps-per-interval", type=positive_int(MAX_STEPS_PER_INTERVAL),
                       default=_MODEL.steps_per_interval,
                       help="solver steps between two stored times")
    model.add_argument("--method", default=_MODEL.method, help="Runge-Kutta method, e.g. euler, rk4")
    model.add_argument("--hidden", type=positive_int(MAX_COUNT), default=_MODEL.hidden,
                       help="anodev2-neural: width of q's MLP")
    for name in families:
        family_named(name).add_options(parser)
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=positive_int(MAX_COUNT), default=_FIT.epochs, help="passes over the training set")
    train.add_argument("--lr", type=learning_rate,
                       help=f"peak learning rate, one-cycle schedule (default: {_FIT.lr} linear, "
                            f"{FitConfig(model=_FOURIER).lr} fourier)")
    train.add_argument("--rate-lr", type=learning_rate,
                       help=f"peak learning rate of the rates of order one: ANODEV2's evolution parameters "
                            f"(anodev2-latent: its read-outs; its frequencies and rates stay at --lr) "
                            f"and the fourier model's linear term (default: --lr for linear, "
                            f"{FitConfig(model=_FOURIER).rate_lr} for fourier; e.g. 0.1 with --lr 0.01 for a "
                            f"growing nu(t))")
    train.add_argument("--loss", choices=LOSSES, default=_FIT.loss,
                       help="mse, or relative: each state's squared error over its squared norm (nRMSE^2)")
    train.add_argument("--batch-size", type=positive_int(MAX_COUNT), default=_FIT.batch_size,
                       help="training samples per Adam step")
    train.add_argument("--polish", type=int_in(0, MAX_COUNT),
                       help=f"after Adam, at most this many full-batch L-BFGS loss evaluations (one pass over "
                            f"the training set each), which take small models to what they can represent "
                            f"(default: linear {POLISH} or {POLISH_PER_PARAMETER} per parameter if more, fourier "
                            f"{FitConfig(model=_FOURIER).polish}; 0: none)")
    train.add_argument("--curriculum", type=fraction, default=_FIT.curriculum,
                       help="fraction of the steps over which the training horizon grows from the first "
                            "interval to all (0: always all)")
    train.add_argument("--windows", type=int_in(0, MAX_COUNT), help="train on windows of this many stored intervals "
                       "from every stored state (0: whole trajectories from u(t0); default: fourier static 1, else 0)")
    train.add_argument("--budget", type=float, dest="budget_seconds", help="seconds of training, validation included")
    train.add_argument("--seed", type=seed, default=_FIT.seed,
                       help="seed of the initial weights and the batch order (a fit is reproducible from it)")
    train.add_argument("--checkpoint-every", type=positive_int(MAX_COUNT), default=_FIT.checkpoint_every, help="epochs")
    train.add_argument("--eval-every", type=int_in(0, MAX_COUNT), default=_FIT.eval_every,
                       help="epochs between test metrics in metrics.jsonl, for the record: they decide nothing "
                            "(0: the test split is read only once the fit is done)")
    stopping = parser.add_argument_group("early stopping (on a validation split carved out of the training samples)")
    stopping.add_argument("--validation-fraction", type=fraction,
                          help=f"fraction of the training samples held out to validate on, at least "
                               f"{MIN_VALIDATION} (drawn with --seed); 0: none, every epoch and the whole polish "
                               f"budget run (default: {DEFAULT_VALIDATION} where that is {MIN_VALIDATION} samples "
                               "or more, else 0)")
    stopping.add_argument("--patience", type=positive_int(MAX_COUNT), default=_FIT.patience,
                          help="Adam stops after this many epochs without a validation gain of --min-gain, counted "
                               "once the curriculum trains on every interval; the best validated weights are kept")
    stopping.add_argument("--polish-patience", type=positive_int(MAX_COUNT), default=_FIT.polish_patience,
                          help="the polish stops after this many L-BFGS evaluations without a validation gain of "
                               "--min-gain, keeping the best validated weights (Adam's if it never helped)")
    stopping.add_argument("--min-gain", type=fraction, default=_FIT.min_gain,
                          help="the relative drop of the validation error that counts as a gain")
    train.add_argument("--device", default="auto", help=_DEVICE_HELP)
    train.add_argument("--cache-mb", type=float, default=_FIT.cache_mb,
                       help="MiB of training samples kept in memory per process (the rest is read from "
                            "the file as needed, so any file size trains in bounded memory)")
    train.add_argument("--dtype", choices=["float32", "float64"], default=_FIT.dtype,
                       help="precision of the weights and the solve (float64: runs agree to rounding)")
    _add_threads(train)
    add_progress_option(train)
    parser.set_defaults(func=_run_fit)


def _model_config(args: argparse.Namespace) -> ModelFamily:
    """The model options as a config; an option of another model family is an error, not ignored."""
    for name in family_names():
        misplaced = [flag for flag, dest in family_named(name).options.items()
                     if name != args.model and getattr(args, dest) not in (None, False)]
        if misplaced:
            verb, them = ("applies", "it") if len(misplaced) == 1 else ("apply", "them")
            raise InputError(f"{', '.join(misplaced)} only {verb} to --model {name}; drop {them} or pass --model {name}")
    return family_named(args.model).from_options(args)


def _config(args: argparse.Namespace) -> FitConfig:
    settings = {f.name: getattr(args, f.name) for f in dataclasses.fields(FitConfig) if hasattr(args, f.name)}
    return FitConfig(**{**settings, "model": _model_config(args)})


def _run_fit(args: argparse.Namespace) -> int:
    _set_threads(args.threads)
    summary = fit(args.data, args.out, _config(args), device=args.device, resume=args.resume)
    print(format_table([summary]))
    print(f"wrote {args.out}/metrics.json")
    check_finite_metrics(_own_metrics(summary), args.out / SUMMARY)
    return 0


def _own_metrics(record: dict) -> dict:
    """``record`` less PDEBench's block, which scores the given frame t[0] too: a channel that is all
    zero there (the wave's u_t at rest) has no relative error, recorded as null, not a failure."""
    return {key: value for key, value in record.items() if key not in ("pdebench", "test_pdebench")}


def _add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = problem_subparsers(subparsers, "evaluate", help="evaluate a checkpoint").add_parser(
        "pde1d", help="test nRMSE of a `physode fit` run",
        description="Roll the fitted model out on the test split of its data file (or --data) and report "
        "nRMSE over the predicted times (nrmse_predicted) and at the final time, and PDEBench's metrics "
        "over every time index including the given one (pdebench: nRMSE, RMSE, cRMSE, bRMSE, fRMSE "
        "low/mid/high, max error; batch means averaged over --batch-size blocks as PDEBench does). "
        "Prints the metrics and writes them as JSON.",
        formatter_class=_DefaultsHelp,
    )
    parser.add_argument("run", type=Path, nargs="?", metavar="RUN", help="run directory or its checkpoint.pt")
    parser.add_argument("--checkpoint", type=Path, help="the run's checkpoint.pt instead of RUN (as `evaluate cifar10` takes it)")
    parser.add_argument("--data", type=Path, help="trajectory file (default: the one the run was fit to)")
    parser.add_argument("--out", type=Path, help="metrics JSON (default: RUN/evaluation.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace the metrics JSON if it exists")
    parser.add_argument("--batch-size", type=positive_int(MAX_COUNT), default=_FIT.eval_batch_size,
                        help="test samples per block (PDEBench's metrics are means over blocks)")
    parser.add_argument("--device", default="auto", help=_DEVICE_HELP)
    parser.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    if (args.run is None) == (args.checkpoint is None):
        raise InputError("give the run to evaluate once: as RUN (a run directory or its checkpoint.pt) or --checkpoint FILE")
    record = evaluate_run(args.run or args.checkpoint, args.data, args.device, args.batch_size, args.out, overwrite=args.overwrite)
    print(strict_json({k: v for k, v in record.items() if k != "nrmse_per_time"}))
    check_finite_metrics(_own_metrics(record), "the evaluation JSON")
    return 0


def _times(text: str) -> list[float]:
    """``--times``: comma-separated times, or ``START:STOP:N`` for N equally spaced ones (both ends)."""
    try:
        if text.count(":") == 2:
            start, stop, count = text.split(":")
            if int(count) < 1 or int(count) > MAX_COUNT:
                raise ValueError
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
        formatter_class=_DefaultsHelp,
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
    parser.add_argument("--batch-size", type=positive_int(MAX_COUNT), default=_FIT.eval_batch_size,
                        help="samples predicted at once")
    parser.add_argument("--device", default="auto", help=_DEVICE_HELP)
    parser.set_defaults(func=_run_predict)


def _run_predict(args: argparse.Namespace) -> int:
    out = predict_file(args.run, args.initial, args.out, times=args.times, samples=args.samples, device=args.device,
                       batch_size=args.batch_size, overwrite=args.overwrite)
    print(f"wrote {out}")
    return 0


def _add_plot(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot", help="Figure-2-style comparison of fitted runs (PNG)",
        description="Ground truth against each run's prediction for one test sample at several times, "
        "plus the learned velocity c_hat(t) against the true c(t) when the data file stores c.",
        formatter_class=_DefaultsHelp,
    )
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run directories fit to the same file")
    parser.add_argument("--out", type=Path, required=True, help="PNG file")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--data", type=Path, help="trajectory file (default: the one the runs were fit to)")
    parser.add_argument("--sample", type=int_in(0, None), default=0,
                        help="which test sample (position in the test split)")
    parser.add_argument("--panels", type=positive_int(100), default=6, help="number of snapshot times shown")
    parser.set_defaults(func=_run_plot)


def _run_plot(args: argparse.Namespace) -> int:
    plot_runs(args.runs, args.out, data=args.data, sample=args.sample, panels=args.panels,
              overwrite=args.overwrite)
    print(f"wrote {args.out}")
    return 0


def _add_quickstart(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quickstart", help="end-to-end demo: transport data, ANODE vs ANODEV2, table and figure",
        description="Simulate transport dz/dt = c(t) dz/dx with exponential c(t), fit ANODE, Neural ODE "
        "and ANODEV2, print test nRMSE and fit time, and draw the Figure-2-style comparison (a few "
        "minutes on a laptop CPU). Rerunning reuses finished fits.",
        formatter_class=_DefaultsHelp,
    )
    parser.add_argument("--out", type=Path, default=Path(QUICKSTART_DIR), help="output directory")
    parser.add_argument("--device", default="auto", help=_DEVICE_HELP)
    _add_threads(parser)
    add_progress_option(parser)
    parser.set_defaults(func=_run_quickstart)


def _run_quickstart(args: argparse.Namespace) -> int:
    _set_threads(args.threads)
    run_quickstart(args.out, device=args.device, progress=args.progress)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``fit``, ``evaluate pde1d``, ``predict``, ``plot`` and ``quickstart`` to the ``physode`` command line."""
    _add_fit(subparsers)
    _add_evaluate(subparsers)
    _add_predict(subparsers)
    _add_plot(subparsers)
    _add_quickstart(subparsers)
