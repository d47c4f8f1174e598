"""``physode train cifar10`` and ``physode evaluate cifar10`` (see :mod:`physode.training.cli`)."""

from __future__ import annotations

import argparse
import dataclasses
import json

from physode.problems.cifar10.data import default_data_root
from physode.problems.cifar10.models import ARCHS, VARIANTS
from physode.problems.cifar10.train import TrainConfig, evaluate, train
from physode.training import problem_subparsers

_DEFAULTS = TrainConfig()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", default=default_data_root(),
                        help="folder with the python-pickle CIFAR-10 batches (default: $PHYSODE_DATA or "
                             "./data/cifar-10-batches-py)")
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
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument("--download", action="store_true", help="fetch CIFAR-10 into --data-root (needs network)")
    parser.add_argument("--arch", default=_DEFAULTS.arch, help=f"one of {', '.join(ARCHS)}")
    parser.add_argument("--variant", default=_DEFAULTS.variant, help=f"one of {', '.join(VARIANTS)}")
    parser.add_argument("--epochs", type=int, default=_DEFAULTS.epochs)
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS.batch_size, help="global batch size")
    parser.add_argument("--lr", type=float, default=_DEFAULTS.lr)
    parser.add_argument("--momentum", type=float, default=_DEFAULTS.momentum)
    parser.add_argument("--weight-decay", type=float, default=_DEFAULTS.weight_decay)
    parser.add_argument("--milestones", type=int, nargs="*", default=list(_DEFAULTS.milestones),
                        help="epochs after which the learning rate is multiplied by --gamma")
    parser.add_argument("--gamma", type=float, default=_DEFAULTS.gamma)
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed)
    parser.add_argument("--no-augment", dest="augment", action="store_false", help="no random crop / flip")
    parser.add_argument("--limit-train", type=int, help="use only the first N training images")
    parser.add_argument("--limit-test", type=int, help="use only the first N test images")
    parser.add_argument("--eval-batch-size", type=int, default=_DEFAULTS.eval_batch_size)
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, help="bf16 autocast (default: on CUDA)")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction,
                        help="channels-last memory format (default: on CUDA)")
    parser.add_argument("--deterministic", action="store_true", help="deterministic CUDA kernels (slower)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    parser.set_defaults(func=_train)

    parser = problem_subparsers(subparsers, "evaluate", help="evaluate a checkpoint").add_parser(
        "cifar10", help="test loss and accuracy of a CIFAR-10 checkpoint")
    _common(parser)
    parser.add_argument("--checkpoint", required=True, help="checkpoint.pt written by `physode train cifar10`")
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS.eval_batch_size)
    parser.add_argument("--limit-test", type=int, help="use only the first N test images")
    parser.set_defaults(func=_evaluate)


def _train(args: argparse.Namespace) -> int:
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    options = {k: v for k, v in vars(args).items() if k in fields}
    config = TrainConfig(**{**options, "milestones": tuple(args.milestones)})
    train(config, args.data_root, args.out, device=args.device, resume=args.resume, download=args.download)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    result = evaluate(args.checkpoint, args.data_root, args.device, args.batch_size, args.limit_test)
    print(json.dumps({"checkpoint": str(args.checkpoint), "test_loss": result["loss"], "test_acc": result["acc"]}))
    return 0
