"""The paper's published CIFAR-10 numbers (ANODEV2 Tables 1-4), and tables that put ours beside them.

Keys are this package's arch and variant names. Accuracies are percentages, min / max / avg over
five runs; parameter counts are in thousands as printed (two decimals).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

ARCH_TITLES = {"alexnet": "AlexNet", "resnet4": "ResNet-4", "resnet10": "ResNet-10"}
VARIANT_TITLES = {"baseline": "Baseline", "neuralode": "Neural ODE", "anode": "ANODE (Nt=2)",
                  "anodev2-c1": "ANODEV2 config 1 (Nt=5)", "anodev2-c2": "ANODEV2 config 2 (Nt_z=2, Nt_theta=10)"}

PARAMS_K: dict[str, dict[str, float]] = {  # Table 3
    "baseline": {"alexnet": 1756.68, "resnet4": 7.71, "resnet10": 44.19},
    "neuralode": {"alexnet": 1757.13, "resnet4": 7.96, "resnet10": 44.95},
    "anode": {"alexnet": 1757.13, "resnet4": 7.96, "resnet10": 44.95},
    "anodev2-c1": {"alexnet": 1757.51, "resnet4": 8.23, "resnet10": 45.77},
    "anodev2-c2": {"alexnet": 1757.13, "resnet4": 7.99, "resnet10": 45.05},
}

ACCURACY: dict[str, dict[str, tuple[float, float, float]]] = {  # Tables 1, 2, 4: (min, max, avg)
    "baseline": {"alexnet": (86.84, 87.15, 87.03), "resnet4": (76.47, 77.35, 76.95),
                 "resnet10": (87.79, 88.52, 88.10)},
    "neuralode": {"alexnet": (74.54, 76.78, 75.67), "resnet4": (44.73, 49.91, 47.37),
                  "resnet10": (64.70, 70.06, 67.94)},
    "anode": {"alexnet": (87.86, 88.14, 88.02), "resnet4": (76.92, 77.45, 77.30),
              "resnet10": (88.48, 88.75, 88.60)},
    "anodev2-c1": {"alexnet": (88.59, 88.96, 88.78), "resnet4": (77.27, 78.58, 78.11),
                   "resnet10": (88.67, 89.39, 89.04)},
    "anodev2-c2": {"alexnet": (88.10, 88.33, 88.26), "resnet4": (77.23, 78.28, 77.73),
                   "resnet10": (88.65, 89.19, 88.93)},
}


def within_paper_params(count: int, variant: str, arch: str) -> bool:
    """Whether ``count`` parameters, rounded as the paper prints them (0.01K), is at most the paper's."""
    return round(count / 1000, 2) <= PARAMS_K[variant][arch]


def accuracy_table(accuracies: Mapping[tuple[str, str], Sequence[float]], archs: Sequence[str],
                   variants: Sequence[str], with_paper: bool = True) -> str:
    """Markdown table in the layout of the paper's Tables 1, 2 and 4: variants as rows, per arch
    ``min / max`` and ``avg`` test accuracy (%) over seeds, the paper's beside ours.

    ``accuracies[(arch, variant)]`` lists per-seed accuracies in percent; missing cells print "-".
    """
    header = ["variant"]
    for arch in archs:
        header += [f"{ARCH_TITLES.get(arch, arch)} min / max", "avg", "runs"]
        if with_paper:
            header += ["paper min / max", "paper avg"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for variant in variants:
        row = [VARIANT_TITLES.get(variant, variant)]
        for arch in archs:
            runs = accuracies.get((arch, variant), ())
            if runs:
                row += [f"{min(runs):.2f} / {max(runs):.2f}", f"{statistics.fmean(runs):.2f}", str(len(runs))]
            else:
                row += ["-", "-", "0"]
            if with_paper:
                published = ACCURACY.get(variant, {}).get(arch)
                row += [f"{published[0]:.2f} / {published[1]:.2f}", f"{published[2]:.2f}"] if published else ["-", "-"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
