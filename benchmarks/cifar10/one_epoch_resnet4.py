"""One epoch of ResNet-4 baseline on the full CIFAR-10 training set with the paper recipe.

A smoke benchmark of the whole training path on real data: reports test accuracy (expect > 40%
after one epoch) and training images/s, and writes them to one_epoch_resnet4.md.

    python -m benchmarks.cifar10.one_epoch_resnet4 --data-root DIR [--device cpu] [--out RUN_DIR]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

import torch

from physode.io.atomic import atomic_write_text
from physode.problems.cifar10.data import default_data_root
from physode.problems.cifar10.train import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=default_data_root())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", help="run directory (default: a temporary one)")
    parser.add_argument("--report", default=Path(__file__).with_name("one_epoch_resnet4.md"))
    args = parser.parse_args()

    config = TrainConfig(arch="resnet4", epochs=1, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        (record,) = train(config, args.data_root, args.out or tmp, device=args.device)
    report = (
        "# ResNet-4 baseline, one epoch on full CIFAR-10\n\n"
        f"Command: `{' '.join(['python -m', __spec__.name, *sys.argv[1:]])}`\n\n"
        f"Machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {args.device}\n\n"
        "Recipe: SGD lr 0.1, momentum 0.9, wd 5e-4, global batch 256 (195 steps, last partial batch "
        "dropped), crop+flip augmentation, seed 0.\n\n"
        "| train loss | train acc | test loss | test acc | train images/s | epoch time (s) |\n"
        "|---:|---:|---:|---:|---:|---:|\n"
        f"| {record['train_loss']:.4f} | {record['train_acc']:.2%} | {record['test_loss']:.4f} | "
        f"{record['test_acc']:.2%} | {record['images_per_s']:.0f} | {record['time_s']:.1f} |\n"
    )
    atomic_write_text(args.report, report)
    print(report)


if __name__ == "__main__":
    main()
