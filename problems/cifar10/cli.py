"""``physode train|evaluate|plot-kernel|plot-curves cifar10`` (see :mod:`physode.training.cli`)."""

from __future__ import annotations

import argparse

from physode.catalog import VARIANTS
from physode.cli_types import fraction, float_in, int_in, learning_rate, positive_int, seed
from physode.problems.cifar10.config import ARCH_NAMES, MAX_KERNELS, PAPER_ROWS, TrainConfig, default_data_root
from physode.training.cli import problem_subparsers

_DEFAULTS = TrainConfig()
MAX_COUNT = 10**6  # epochs, batch sizes, image counts: beyond this a run is a typo, not a plan
MAX_TIMES = 1000  # plot-kernel: columns of one figure


def _model_names() -> tuple[str, ...]:
    """models.model_names(): the paper's rows, then every other registered variant."""
    return (*PAPER_ROWS, *(name for name in VARIANTS.names() if name not in PAPER_ROWS))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", default=default_data_root(),
                        help="the python-pickle CIFAR-10 folder (cifar-10-batches-py) or a folder containing it "
                             "(default: $PHYSODE_DATA, else ./data)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:N")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the cifar10 problem to ``physode train`` and ``physode evaluate``."""
    parser = problem_subparsers(subparsers, "train", help="train a model").add_parser(
        "cifar10", help="train an AlexNet/ResNet variant on CIFAR-10",
        description="Train on CIFAR-10 with ANODE's recipe (the defaults). Launch with "
                    "`torchrun --nproc_per_node N -m physode.cli train cifar10 ...` for data parallel; "
                    "--batch-size is the global batch.")
    _common(parser)
    parser.add_argument("--out", required=True, help="run directory for checkpoint.pt and metrics.jsonl")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    start.add_argument("--overwrite", action="store_true",
                       help="replace the run in --out (without it, an existing run is refused)")
    parser.add_argument("--download", action="store_true", help="fetch CIFAR-10 into --data-root (needs network)")
    parser.add_argument("--arch", default=_DEFAULTS.arch, help=f"one of {', '.join(ARCH_NAMES)}")
    parser.add_argument("--variant", default=_DEFAULTS.variant, help=f"one of {', '.join(_model_names())}")
    parser.add_argument("--epochs", type=positive_int(MAX_COUNT), default=_DEFAULTS.epochs)
    parser.add_argument("--batch-size", type=positive_int(MAX_COUNT), default=_DEFAULTS.batch_size,
                        help="global batch size")
    parser.add_argument("--lr", type=learning_rate, default=_DEFAULTS.lr)
    parser.add_argument("--momentum", type=fraction, default=_DEFAULTS.momentum, help="SGD momentum in [0, 1)")
    parser.add_argument("--weight-decay", type=float_in(0.0, 1.0), default=_DEFAULTS.weight_decay,
                        help="L2 penalty in [0, 1]")
    parser.add_argument("--milestones", type=positive_int(MAX_COUNT), nargs="*", default=list(_DEFAULTS.milestones),
                        help="epochs after which the learning rate is multiplied by --gamma")
    parser.add_argument("--gamma", type=float_in(0.0, 1.0, low_open=True), default=_DEFAULTS.gamma,
                        help="learning-rate factor at each milestone, in (0, 1]")
    parser.add_argument("--seed", type=seed, default=_DEFAULTS.seed)
    parser.add_argument("--no-augment", dest="augment", action="store_false", help="no random crop / flip")
    parser.add_argument("--limit-train", type=positive_int(MAX_COUNT), help="use only the first N training images")
    parser.add_argument("--limit-test", type=positive_int(MAX_COUNT), help="use only the first N test images")
    parser.add_argument("--eval-batch-size", type=positive_int(MAX_COUNT), default=_DEFAULTS.eval_batch_size)
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, help="bf16 autocast (default: on CUDA)")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction,
                        help="channels-last memory format (default: on CUDA)")
    parser.add_argument("--deterministic", action="store_true", help="deterministic CUDA kernels (slower)")
    parser.set_defaults(func=_train)

    parser = problem_subparsers(subparsers, "evaluate", help="evaluate a checkpoint").add_parser(
        "cifar10", help="test loss and accuracy of a CIFAR-10 checkpoint")
    _common(parser)
    # Both forms, as `evaluate pde1d` takes them: RUN, or --checkpoint FILE.
    parser.add_argument("run", nargs="?", metavar="RUN", help="run directory of `physode train cifar10` or its checkpoint.pt")
    parser.add_argument("--checkpoint", help="the run's checkpoint.pt instead of RUN")
    parser.add_argument("--batch-size", type=positive_int(MAX_COUNT), default=_DEFAULTS.eval_batch_size)
    parser.add_argument("--limit-test", type=positive_int(MAX_COUNT), help="use only the first N test images")
    parser.set_defaults(func=_evaluate)

    parser = problem_subparsers(subparsers, "plot-kernel", help="plot an evolving weight over time").add_parser(
        "cifar10", help="conv kernels of an ANODEV2 block at times 0..1 (paper Figure 6) as a PNG grid",
        description="Plot theta(t) and theta(t) - theta(0) of the kernels that change most, from a checkpoint "
                    "or from a freshly built model (--arch/--variant/--seed).")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="checkpoint.pt of an anodev2-c1/-c2 run")
    source.add_argument("--arch", choices=ARCH_NAMES, help="plot a freshly initialised model of this arch")
    parser.add_argument("--variant", default="anodev2-c1", help="with --arch: anodev2-c1 or anodev2-c2")
    parser.add_argument("--seed", type=seed, default=0, help="with --arch: initialisation seed")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--position", type=int_in(0, MAX_COUNT), default=0, help="which evolving ODE block (0 = first)")
    parser.add_argument("--weight", help="which evolved parameter of the block (default: its first conv kernel)")
    parser.add_argument("--times", type=int_in(2, MAX_TIMES), default=6,
                        help="number of equally spaced times in [0, 1]")
    parser.add_argument("--kernels", type=positive_int(MAX_KERNELS), default=3, help="how many (out, in) kernels to show")
    parser.set_defaults(func=_plot_kernel)

    parser = problem_subparsers(subparsers, "plot-curves", help="plot training curves").add_parser(
        "cifar10", help="loss and accuracy per epoch of one or more runs as a PNG")
    parser.add_argument("runs", nargs="+", help="run directories (or their metrics.jsonl files)")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.set_defaults(func=_plot_curves)


# What the commands run imports torch (.commands): each imports it when it runs, so that building
# the parser (`physode --help`) does not (physode/cli.py).
def _train(args: argparse.Namespace) -> int:
    from physode.problems.cifar10.commands import run_train

    return run_train(args)


def _evaluate(args: argparse.Namespace) -> int:
    from physode.problems.cifar10.commands import run_evaluate

    return run_evaluate(args)


def _plot_kernel(args: argparse.Namespace) -> int:
    from physode.problems.cifar10.commands import run_plot_kernel

    return run_plot_kernel(args)


def _plot_curves(args: argparse.Namespace) -> int:
    from physode.problems.cifar10.commands import run_plot_curves

    return run_plot_curves(args)
