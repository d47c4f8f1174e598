"""What ``physode fit``, ``evaluate pde1d``, ``predict``, ``plot`` and ``quickstart`` run, given their
parsed arguments (:mod:`.cli` builds the parsers without torch and imports this module to run one)."""

from __future__ import annotations

import argparse
import dataclasses

import torch

from physode.errors import InputError
from physode.log import LOGGER
from physode.problems.fitting.evaluate import SUMMARY, evaluate_run
from physode.problems.fitting.choose import fit_chosen, refuse_training_options
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_options import config_from_args, model_given, resumed_model
from physode.problems.fitting.fit_parser import DEFAULT_BUDGET
from physode.problems.fitting.plot import plot_runs
from physode.problems.fitting.predict import predict_file
from physode.problems.fitting.quickstart import format_table, run_quickstart
from physode.training import check_finite_metrics, strict_json


def run_fit(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    if not model_given(args):  # before the config, which would refuse them for the default model instead
        refuse_training_options(args.windows, args.pushforward)
    config = config_from_args(args, resumed_model(args.out) if args.resume else None)
    if model_given(args):
        LOGGER.debug(f"fit config: {config}")
        summary = fit(args.data, args.out, config, device=args.device, resume=args.resume, overwrite=args.overwrite)
    else:  # --budget is the choice's and its fit's; the trials run a fixed number of epochs
        summary = fit_chosen(args.data, args.out, dataclasses.replace(config, budget_seconds=None),
                             config.budget_seconds or DEFAULT_BUDGET, epochs=args.epochs, device=args.device,
                             resume=args.resume, overwrite=args.overwrite)
    LOGGER.info(format_table([summary]))
    LOGGER.info(f"wrote {args.out}/metrics.json")
    check_finite_metrics(_own_metrics(summary), args.out / SUMMARY)
    return 0


def _own_metrics(record: dict) -> dict:
    """``record`` less PDEBench's block, which scores the given frame t[0] too: a channel that is all
    zero there (the wave's u_t at rest) has no relative error, recorded as null, not a failure."""
    return {key: value for key, value in record.items() if key not in ("pdebench", "test_pdebench", "choice")}


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
