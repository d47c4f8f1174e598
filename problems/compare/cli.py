"""The ``physode compare`` command's parser. Building it imports no torch; running it imports :mod:`.run`."""

from __future__ import annotations

import argparse
from pathlib import Path

from physode.cli_types import float_in, positive_int, seed
from physode.log import LOGGER

DEFAULT_BUDGET = 600.0  # seconds of wall time for every trained model together
DEFAULT_PEERS = "fno,fno-time,fno-ar"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``compare`` to the ``physode`` command line."""
    parser = subparsers.add_parser(
        "compare", help="fit physode's models and the FNO peers on your trajectory file: table and plots",
        description="Fit physode's candidate models (those `physode fit` chooses among) and the peers "
        "(neuraloperator's FNO: direct, time-conditioned, autoregressive; from the bench extra) on FILE with one "
        "split (the file's training samples, validation held out as `physode fit --seed` holds it out) and one "
        "time budget shared equally among physode's models (the peers train until their validation split stops them, "
        "converged, unless --peers-stop budget), score every model on the file's test split with the same nRMSE, and "
        "write "
        "DIR/results.md, DIR/results.json, DIR/pareto.png (test nRMSE against fit time; zero and persistence as "
        "reference lines) and DIR/prediction.png.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("data", type=Path, metavar="FILE", help="trajectory file (physode or PDEBench 1-D layout)")
    parser.add_argument("--out", type=Path, help="output directory (default: FILE's name without suffix + '-compare')")
    parser.add_argument("--overwrite", action="store_true", help="replace the results in a non-empty --out")
    parser.add_argument("--budget", type=float_in(0, None, low_open=True), default=DEFAULT_BUDGET, metavar="SECONDS",
                        help="wall time for physode's models together (and the peers with --peers-stop budget), "
                             "shared equally")
    parser.add_argument("--peers-stop", choices=("validation", "budget"), default="validation",
                        help="what stops a trained peer: its validation split (converged, as its users train it, "
                             "with its patience and epoch cap: it takes as long as it takes) or an equal share of --budget")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the validation split and every fit")
    parser.add_argument("--models", default="all",
                        help="physode's models, comma-separated (all: every candidate of `physode fit`'s choice; "
                             "none; an unknown name lists them)")
    parser.add_argument("--peers", default=DEFAULT_PEERS,
                        help="trained peers, comma-separated, or none (zero and persistence are always scored)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=positive_int(1024), default=1, help="CPU threads for torch's operations")
    parser.set_defaults(func=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    import torch  # the command's run only: --help stays light

    from physode.problems.compare.report import write_report
    from physode.problems.compare.run import compare

    torch.set_num_threads(args.threads)
    out = args.out or args.data.with_name(f"{args.data.stem}-compare")
    comparison = compare(args.data, out, budget_seconds=args.budget, seed=args.seed, models=args.models,
                         peers=args.peers, device=args.device, overwrite=args.overwrite, peers_stop=args.peers_stop)
    for path in write_report(comparison, out):
        LOGGER.info(f"wrote {path}")
    return 0
