"""Parameter counts of every CIFAR-10 arch x variant beside the paper's Table 3, saved to params.md.

    python -m benchmarks.cifar10.params
"""

from __future__ import annotations

from pathlib import Path

from physode.io.atomic import atomic_write_text
from physode.problems.cifar10.models import parameter_table

EXPLANATION = """\
Every cell is our count, then the paper's Table 3 value; "over" marks a count above the
paper's at its printed precision (0.01K). Overheads per ODE block of width C, ours
vs the paper's (see `problems/cifar10/ode.py`):

| variant | ours | paper (ResNet / AlexNet) |
|---|---|---|
| neuralode, anode | a 1x1 time-channel weight per conv: 2C ResNet, 1C AlexNet | 16C / 7C |
| anodev2-c1, anodev2-c2 | per-output-channel tau, v (2 axes), rho per conv: 8C ResNet, 4C AlexNet | 33C / 13C (c1), 18C / 7C (c2) |

BatchNorm inside ODE blocks keeps running statistics per z step (buffers, not parameters) and a
shared affine transform, so it adds no parameters. The ANODEV2 rows evolve their kernels by the
paper's Eq. 9: sigma = tanh after every exact propagator step (`SpectralRDA(sigma="tanh",
sigma_placement="each_step")`); sigma adds no parameters.
"""


def main() -> None:
    text = ("# CIFAR-10 parameter counts\n\nTrainable parameters (BatchNorm running statistics excluded), "
            "from `python -m benchmarks.cifar10.params`.\n\n" + parameter_table() + "\n" + EXPLANATION)
    atomic_write_text(Path(__file__).with_name("params.md"), text)
    print(text)


if __name__ == "__main__":
    main()
