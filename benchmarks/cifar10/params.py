"""Parameter counts of every CIFAR-10 arch x variant (paper Table 3 layout), saved to params.md.

    python benchmarks/cifar10/params.py
"""

from __future__ import annotations

from pathlib import Path

from physode.io.atomic import atomic_write_text
from physode.problems.cifar10.models import parameter_table

PAPER = """Paper Table 3 (thousands): baseline 1756.68 / 7.71 / 44.19; Neural ODE / ANODE 1757.13 / 7.96 / 44.95;
ANODEV2 config one 1757.51 / 8.23 / 45.77; config two 1757.13 / 7.99 / 45.05 (AlexNet / ResNet-4 / ResNet-10).
"""


def main() -> None:
    text = ("# CIFAR-10 parameter counts\n\nTrainable parameters (BatchNorm running statistics excluded), "
            "from `python benchmarks/cifar10/params.py`.\n\n" + parameter_table() + "\n" + PAPER)
    atomic_write_text(Path(__file__).with_name("params.md"), text)
    print(text)


if __name__ == "__main__":
    main()
