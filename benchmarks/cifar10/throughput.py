"""Training and inference throughput (images/s) of every CIFAR-10 variant, saved to throughput.md.

Times full SGD steps (forward, backward, update) and no-grad forward passes on random
CIFAR-shaped batches after warm-up steps; the data does not change the cost. On CUDA the clock
waits for the device.

    OMP_NUM_THREADS=1 nice python -m benchmarks.cifar10.throughput --archs resnet4 resnet10
    python -m benchmarks.cifar10.throughput --device cuda --batch-size 256 --steps 50 --report throughput_cuda.md
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.nn import functional as F

from physode.io import atomic_write_text
from physode.problems.cifar10.models import ARCHS, CONFIGURATIONS, build_model
from physode.training import progress_bar, resolve_device


def images_per_second(run: Callable[[], None], device: torch.device, images: int, steps: int, warmup: int) -> float:
    """``images * steps`` over the wall time of ``steps`` calls of ``run`` after ``warmup`` calls."""
    for _ in range(warmup):
        run()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    began = time.perf_counter()
    for _ in range(steps):
        run()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return images * steps / (time.perf_counter() - began)


def measure(arch: str, variant: str, device: torch.device, batch_size: int, steps: int,
            warmup: int) -> tuple[float, float]:
    """(training images/s, inference images/s) of ``arch`` / ``variant``."""
    torch.manual_seed(0)
    model = build_model(arch, variant).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(batch_size, 3, 32, 32, device=device)
    labels = torch.randint(0, 10, (batch_size,), device=device)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()

    def infer() -> None:
        with torch.no_grad():
            model(images)

    model.train()
    train_rate = images_per_second(train_step, device, batch_size, steps, warmup)
    model.eval()
    return train_rate, images_per_second(infer, device, batch_size, steps, warmup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["resnet4", "resnet10"], choices=list(ARCHS))
    parser.add_argument("--variants", nargs="+", default=list(CONFIGURATIONS), choices=list(CONFIGURATIONS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--report", type=Path, default=Path(__file__).with_name("throughput.md"))
    args = parser.parse_args()
    device = resolve_device(args.device)

    rates = {}
    for arch, variant in progress_bar([(a, v) for a in args.archs for v in args.variants], desc="throughput"):
        rates[arch, variant] = measure(arch, variant, device, args.batch_size, args.steps, args.warmup)

    header = ["variant"] + [f"{a} {kind}" for a in args.archs for kind in ("train img/s", "x baseline", "eval img/s")]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for variant in args.variants:
        row = [variant]
        for arch in args.archs:
            train_rate, eval_rate = rates[arch, variant]
            base = rates.get((arch, "baseline"), (float("nan"),))[0]
            row += [f"{train_rate:.0f}", f"{train_rate / base:.2f}", f"{eval_rate:.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    report = (
        "# CIFAR-10 throughput per variant\n\n"
        f"Command: `{' '.join(['python -m', __spec__.name, *sys.argv[1:]])}`\n\n"
        f"Machine: {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"device {device}. Batch {args.batch_size}, {args.warmup} warm-up + {args.steps} timed steps, "
        "random inputs. Training = forward + backward + SGD step; eval = no-grad forward in eval mode. "
        "\"x baseline\" is the training rate relative to the same arch's baseline.\n\n"
        + "\n".join(lines) + "\n"
    )
    atomic_write_text(args.report, report)
    print(report)


if __name__ == "__main__":
    main()
