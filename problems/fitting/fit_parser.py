"""The ``physode fit`` parser, importable without torch (``physode fit --help`` must not load it).

The defaults it shows are :class:`~.fit_config.FitConfig`'s and the model families' own, written
out here because those modules import torch; ``tests/test_startup.py`` compares every one.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from physode.catalog import VARIANTS
from physode.cli_types import float_in, fraction, int_in, learning_rate, positive_int, seed
from physode.problems.fitting.family_options import FAMILIES, FOURIER_DEFAULTS, LINEAR_DEFAULTS, MAX_COUNT

FIT_DEFAULTS = {
    "epochs": 60, "batch_size": 16, "curriculum": 0.7, "loss": "mse", "seed": 0, "checkpoint_every": 5,
    "patience": 10, "polish_patience": 100, "min_gain": 0.01, "eval_every": 0, "eval_batch_size": 256,
    "dtype": "float32", "cache_mb": 256.0,
}
"""FitConfig's defaults."""
MODEL_DEFAULTS = {"variant": "anodev2", "steps_per_interval": 2, "method": "rk4", "hidden": 16}
"""The linear family's (the default family's) shared settings."""
LOSSES = ("mse", "relative")  # fit_config's LOSSES
VALIDATION = {"default": 0.1, "min": 4}  # samples.py's DEFAULT_VALIDATION and MIN_VALIDATION
DEVICE_HELP = "auto (CUDA if present), cpu, cuda or cuda:N"
MAX_STEPS_PER_INTERVAL = 10_000
DEFAULT_BUDGET = 600.0  # seconds for `physode fit FILE` without model options: the choice (4 trials) and the fit


def add_threads(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--threads", type=positive_int(1024), default=1,
        help="CPU threads for torch's operations. Each solver step works on a few kilobytes, so more "
             "threads only add synchronisation: on a shared 2-core machine 2 threads ran 10x slower than 1",
    )


def add_fit(subparsers: argparse._SubParsersAction, run: Callable[[argparse.Namespace], int]) -> None:
    """Add ``physode fit``, whose parsed arguments ``run`` fits."""
    parser = subparsers.add_parser(
        "fit", help="fit an ODE model (one linear layer or a Fourier network) to a 1-D trajectory file",
        description="Given u(t0), learn to predict u at every stored time of a 1-D periodic trajectory "
        "file (physode format or PDEBench 1D). Writes checkpoint.pt, metrics.jsonl (one record per "
        "epoch) and metrics.json (test nRMSE) to --out; a killed run continues with --resume.",
    )
    parser.add_argument("data", type=Path, metavar="FILE", help="trajectory file (HDF5)")
    parser.add_argument("--out", type=Path, required=True, help="run directory")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its checkpoint (a fresh run if it has none)")
    start.add_argument("--overwrite", action="store_true",
                       help="replace --out if it holds a run (without it, an existing run is refused)")
    # The model options default to None, so that one given (even at its default value) can be told from
    # one left out: with none given, the model is chosen (problems/fitting/choose.py).
    model = parser.add_argument_group("model (with no model option here or in the families' groups, nor --lr, "
                                      "--rate-lr or --polish, the model is chosen on the validation split within "
                                      "--budget)")
    families, linear, fourier = FAMILIES.entries(), LINEAR_DEFAULTS, FOURIER_DEFAULTS
    model.add_argument("--model", choices=[family.name for family in families],
                       help="; ".join(f"{family.name}: {family.summary}" for family in families)
                       + f" (default: {families[0].name} once any model option is given)")
    model.add_argument("--variant", choices=VARIANTS.names(),
                       help="; ".join(f"{variant.name}: {variant.summary}" for variant in VARIANTS.entries())
                       + f" (default: {MODEL_DEFAULTS['variant']})")
    model.add_argument("--modes", type=positive_int(MAX_COUNT),
                       help=f"Fourier modes kept (default: all for linear, {FOURIER_DEFAULTS['modes']} for fourier)")
    model.add_argument("--steps-per-interval", type=positive_int(MAX_STEPS_PER_INTERVAL),
                       help=f"solver steps between two stored times (default: {MODEL_DEFAULTS['steps_per_interval']} "
                            f"linear, {FOURIER_DEFAULTS['steps_per_interval']} fourier; with --resume, the run's)")
    model.add_argument("--method", help="time stepper: a Runge-Kutta method, e.g. euler, rk4, or ifrk4 (fourier "
                       "with --linear-term and a static variant: the linear term on every mode, propagated exactly) "
                       f"(default: {MODEL_DEFAULTS['method']})")
    model.add_argument("--hidden", type=positive_int(MAX_COUNT),
                       help=f"anodev2-neural: width of q's MLP (default: {MODEL_DEFAULTS['hidden']})")
    for family in families:
        family.add_options(parser)
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=positive_int(MAX_COUNT),
                       help="passes over the training set; with the model chosen, its final fit's are as many as the "
                            f"budget allows unless given (default: {FIT_DEFAULTS['epochs']})")
    train.add_argument("--budget", type=float_in(0, None, low_open=True), metavar="SECONDS", dest="budget_seconds",
                       help="seconds of training, validation included: Adam's one-cycle schedule is sized to it and "
                            "the fit stops when it is spent (the L-BFGS polish within what Adam left); with no "
                            "model option, the time for choosing the model and fitting it (default there: "
                            f"{DEFAULT_BUDGET:g}; else none)")
    train.add_argument("--windows", type=int_in(0, MAX_COUNT), metavar="K",
                       help="train on windows of K stored intervals from every stored state (0: whole trajectories "
                            "from u(t0); default: 1 for the fourier family's static variants, else 0)")
    train.add_argument("--pushforward", type=int_in(1, MAX_COUNT), metavar="K",
                       help="with windows, start each one from the model's own prediction of its start state, rolled "
                            "out without a gradient over the K-1 stored intervals before it (PDEBench's pushforward "
                            "trick; default: 1, from the stored state)")
    train.add_argument("--lr", type=learning_rate,
                       help=f"peak learning rate, one-cycle schedule (default: {linear['lr']} linear, "
                            f"{fourier['lr']} fourier)")
    train.add_argument("--rate-lr", type=learning_rate,
                       help=f"peak learning rate of the rates of order one: ANODEV2's evolution parameters "
                            f"(anodev2-latent: its read-outs; its frequencies and rates stay at --lr) "
                            f"and the fourier model's linear term (default: --lr for linear, "
                            f"{fourier['rate_lr']} for fourier; e.g. 0.1 with --lr 0.01 for a growing nu(t))")
    train.add_argument("--loss", choices=LOSSES, default=FIT_DEFAULTS["loss"],
                       help="mse, or relative: each state's squared error over its squared norm (nRMSE^2)")
    train.add_argument("--batch-size", type=positive_int(MAX_COUNT), default=FIT_DEFAULTS["batch_size"],
                       help="training samples per Adam step")
    polish, per_parameter = linear["polish"], linear["polish_per_parameter"]
    train.add_argument("--polish", type=int_in(0, MAX_COUNT),
                       help=f"after Adam, at most this many full-batch L-BFGS loss evaluations (one pass over "
                            f"the training set each), which take small models to what they can represent "
                            f"(default: linear {polish} or {per_parameter} per parameter if more, fourier "
                            f"{fourier['polish']}; 0: none)")
    train.add_argument("--curriculum", type=fraction, default=FIT_DEFAULTS["curriculum"],
                       help="fraction of the steps over which the training horizon grows from the first "
                            "interval to all (0: always all)")
    train.add_argument("--seed", type=seed, default=FIT_DEFAULTS["seed"],
                       help="seed of the initial weights and the batch order (a fit is reproducible from it)")
    train.add_argument("--checkpoint-every", type=positive_int(MAX_COUNT), default=FIT_DEFAULTS["checkpoint_every"],
                       help="epochs")
    train.add_argument("--eval-every", type=int_in(0, MAX_COUNT), default=FIT_DEFAULTS["eval_every"],
                       help="epochs between test metrics in metrics.jsonl, for the record: they decide nothing "
                            "(0: the test split is read only once the fit is done)")
    stopping = parser.add_argument_group("early stopping (on a validation split carved out of the training samples)")
    stopping.add_argument("--validation-fraction", type=fraction,
                          help=f"fraction of the training samples held out to validate on, at least "
                               f"{VALIDATION['min']} (drawn with --seed); 0: none, every epoch and the whole polish "
                               f"budget run (default: {VALIDATION['default']} where that is {VALIDATION['min']} "
                               "samples or more, else 0)")
    stopping.add_argument("--patience", type=positive_int(MAX_COUNT), default=FIT_DEFAULTS["patience"],
                          help="Adam stops after this many epochs without a validation gain of --min-gain, counted "
                               "once the curriculum trains on every interval; the best validated weights are kept")
    stopping.add_argument("--polish-patience", type=positive_int(MAX_COUNT), default=FIT_DEFAULTS["polish_patience"],
                          help="the polish stops after this many L-BFGS evaluations without a validation gain of "
                               "--min-gain, keeping the best validated weights (Adam's if it never helped)")
    stopping.add_argument("--min-gain", type=fraction, default=FIT_DEFAULTS["min_gain"],
                          help="the relative drop of the validation error that counts as a gain")
    train.add_argument("--device", default="auto", help=DEVICE_HELP)
    train.add_argument("--cache-mb", type=float, default=FIT_DEFAULTS["cache_mb"],
                       help="MiB of training samples kept in memory per process (the rest is read from "
                            "the file as needed, so any file size trains in bounded memory)")
    train.add_argument("--dtype", choices=["float32", "float64"], default=FIT_DEFAULTS["dtype"],
                       help="precision of the weights and the solve (float64: runs agree to rounding)")
    add_threads(train)
    parser.set_defaults(func=run)
