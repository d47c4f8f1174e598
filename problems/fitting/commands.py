"""What ``physode fit``, ``evaluate pde1d``, ``predict``, ``plot`` and ``quickstart`` run, given their
parsed arguments (:mod:`.cli` builds the parsers without torch and imports this module to run one)."""

from __future__ import annotations

import argparse

import torch

from physode.errors import InputError
from physode.log import LOGGER
from physode.problems.fitting.evaluate import SUMMARY, evaluate_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelFamily, family_named, family_names
from physode.problems.fitting.plot import plot_runs
from physode.problems.fitting.predict import predict_file
from physode.problems.fitting.quickstart import format_table, run_quickstart
from physode.training import check_finite_metrics, strict_json


def _model_config(args: argparse.Namespace) -> ModelFamily:
    """The model options as a config; an option of another model family is an error, not ignored."""
    for name in family_names():
        misplaced = [flag for flag, dest in family_named(name).options.items()
                     if name != args.model and getattr(args, dest) not in (None, False)]
        if misplaced:
            verb, them = ("applies", "it") if len(misplaced) == 1 else ("apply", "them")
            raise InputError(f"{', '.join(misplaced)} only {verb} to --model {name}; drop {them} or pass --model {name}")
    return family_named(args.model).from_options(args)


def fit_config_from(args: argparse.Namespace) -> FitConfig:
    """The FitConfig of `physode fit`'s parsed arguments."""
    return FitConfig(model=_model_config(args), epochs=args.epochs, lr=args.lr, rate_lr=args.rate_lr, loss=args.loss,
                     batch_size=args.batch_size, polish=args.polish,
                     curriculum=args.curriculum, seed=args.seed, checkpoint_every=args.checkpoint_every,
                     eval_every=args.eval_every, dtype=args.dtype, cache_mb=args.cache_mb, progress=args.progress,
                     validation_fraction=args.validation_fraction, patience=args.patience,
                     polish_patience=args.polish_patience, min_gain=args.min_gain)


def run_fit(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    config = fit_config_from(args)
    LOGGER.debug(f"fit config: {config}")
    summary = fit(args.data, args.out, config, device=args.device, resume=args.resume,
                  overwrite=args.overwrite)
    LOGGER.info(format_table([summary]))
    LOGGER.info(f"wrote {args.out}/metrics.json")
    check_finite_metrics(_own_metrics(summary), args.out / SUMMARY)
    return 0


def _own_metrics(record: dict) -> dict:
    """``record`` less PDEBench's block, which scores the given frame t[0] too: a channel that is all
    zero there (the wave's u_t at rest) has no relative error, recorded as null, not a failure."""
    return {key: value for key, value in record.items() if key not in ("pdebench", "test_pdebench")}


def run_evaluate(args: argparse.Namespace) -> int:
    if (args.run is None) == (args.checkpoint is None):
        raise InputError("give the run to evaluate once: as RUN (a run directory or its checkpoint.pt) or --checkpoint FILE")
    record = evaluate_run(args.run or args.checkpoint, args.data, args.device, args.batch_size, args.out, overwrite=args.overwrite)
    LOGGER.info(strict_json({k: v for k, v in record.items() if k != "nrmse_per_time"}))
    check_finite_metrics(_own_metrics(record), "the evaluation JSON")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    out = predict_file(args.run, args.initial, args.out, times=args.times, samples=args.samples, device=args.device,
                       batch_size=args.batch_size, overwrite=args.overwrite)
    LOGGER.info(f"wrote {out}")
    return 0


def run_plot(args: argparse.Namespace) -> int:
    plot_runs(args.runs, args.out, data=args.data, sample=args.sample, panels=args.panels,
              overwrite=args.overwrite)
    LOGGER.info(f"wrote {args.out}")
    return 0


def run_quickstart_command(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    run_quickstart(args.out, device=args.device, progress=args.progress)
    return 0
