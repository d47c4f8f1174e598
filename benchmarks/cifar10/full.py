"""FULL protocol of the paper (GPU): every arch x variant, 5 seeds, 350 epochs; Tables 1, 2 and 4.

ANODE's recipe (SGD 0.1 / 0.9 / 5e-4, batch 256, lr / 10 after epoch 150 and / 100 after 250,
crop + flip) on all 50,000 training images, final-epoch accuracy on the 10,000 test images.
Prints (and writes to --report) the paper's table layout, min / max / avg over seeds per arch x
variant, with the published numbers beside ours, plus training images/s per variant.

Runs live in --out (one directory per arch/variant/seed): rerunning skips finished runs and
resumes an interrupted one exactly. Several GPUs: one process per GPU with --shard, then
--table-only once they are done:

    python -m benchmarks.cifar10.full --data-root DIR --device cuda
    for i in 0 1 2 3; do CUDA_VISIBLE_DEVICES=$i python -m benchmarks.cifar10.full --data-root DIR \\
        --device cuda --shard $i 4 & done; wait; python -m benchmarks.cifar10.full --table-only
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from physode.io import atomic_write_text
from physode.problems.cifar10.data import default_data_root
from physode.problems.cifar10.models import ARCHS, CONFIGURATIONS
from physode.problems.cifar10.paper import accuracy_table
from physode.problems.cifar10.protocol import accuracies_percent, finished_runs, run_protocol, throughput_table
from physode.problems.cifar10.train import TrainConfig

# The paper's tables: which variants each compares (Table 3, the parameter counts, is params.md).
TABLES = {
    "Table 1 (configuration one, Nt = 5)": ["baseline", "anodev2-c1"],
    "Table 2 (configuration two, Nt_z = 2, Nt_theta = 10)": ["baseline", "anodev2-c2"],
    "Table 4 (ablation: static vs evolving weights, Nt = 2)": ["baseline", "neuralode", "anode", "anodev2-c2"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=default_data_root())
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, default=Path("runs/cifar10_full"), help="run directories")
    parser.add_argument("--archs", nargs="+", default=list(ARCHS), choices=list(ARCHS))
    parser.add_argument("--variants", nargs="+", default=list(CONFIGURATIONS), choices=list(CONFIGURATIONS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=350, help="350 in the paper (milestones 150, 250 stay)")
    parser.add_argument("--shard", type=int, nargs=2, default=(0, 1), metavar=("INDEX", "COUNT"),
                        help="train only runs INDEX, INDEX + COUNT, ... (one process per GPU)")
    parser.add_argument("--table-only", action="store_true", help="summarise the finished runs in --out, train nothing")
    parser.add_argument("--report", type=Path, default=Path(__file__).with_name("full.md"))
    args = parser.parse_args()
    if not 0 <= args.shard[0] < args.shard[1]:
        parser.error(f"--shard INDEX COUNT needs 0 <= INDEX < COUNT, got {args.shard[0]} {args.shard[1]}")

    if not args.table_only:
        base = TrainConfig(epochs=args.epochs, progress=False)
        run_protocol(base, args.archs, args.variants, args.seeds, args.data_root, args.out, args.device,
                     shard=tuple(args.shard))
    results = finished_runs(args.out, args.archs, args.variants, args.seeds, args.epochs)
    accuracies = accuracies_percent(results)
    sections = [f"## {title}\n\n" + accuracy_table(accuracies, args.archs, [v for v in variants if v in args.variants])
                for title, variants in TABLES.items()]
    report = (
        "# CIFAR-10, full protocol (paper Tables 1, 2, 4)\n\n"
        f"Command: `{' '.join(['python -m', __spec__.name, *sys.argv[1:]])}`\n\n"
        f"{args.epochs} epochs, seeds {', '.join(map(str, args.seeds))}, ANODE's recipe; test accuracy (%) of "
        f"the final epoch, min / max and mean over the finished runs in {args.out} ({len(results)} runs).\n\n"
        + "\n".join(sections)
        + "\n## Training throughput (images/s, mean over epochs and seeds)\n\n"
        + throughput_table(results, args.archs, args.variants)
    )
    atomic_write_text(args.report, report)
    print(report)


if __name__ == "__main__":
    main()
