"""The paper's CIFAR-10 networks (AlexNet, ResNet-4, ResNet-10) with swappable ODE positions.

Each network marks the positions the paper turns into ODE blocks with a *residual branch*
``f`` (a plain module mapping z to f(z), same shape). A *variant* decides what block is built
around ``f`` there: the baseline is the residual step z + f(z) (one explicit Euler step); ODE
variants wrap the same ``f`` in an ODE block. Everything else in the network is identical across
variants, so parameter counts and accuracies compare like for like.

The paper's rows are :data:`CONFIGURATIONS` of the registered variants (:mod:`physode.variants`):
``baseline`` (the residual step), ``neuralode`` (continuous adjoint), ``anode`` (Nt=2,
checkpointed DTO), ``anodev2-c1`` (Nt=5, evolving kernels) and ``anodev2-c2`` (Nt_z=2,
Nt_theta=10); :mod:`physode.problems.cifar10.ode` builds their blocks. Any other registered
variant is buildable by its name with the default steps; :func:`build_model` builds any arch x
name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from physode.errors import InputError
from physode.problems.cifar10 import paper
from physode.problems.cifar10.ode import coupled_variant, static_variant
from physode.variants import get_variant, variant_names

BlockFactory = Callable[[nn.Module], nn.Module]
"""Builds the block at an ODE position from its residual branch f."""


class Residual(nn.Module):
    """z + f(z): the baseline block at an ODE position."""

    def __init__(self, branch: nn.Module):
        super().__init__()
        self.branch = branch

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.branch(z)


def conv_bn(cin: int, cout: int, kernel: int = 3, stride: int = 1, bias: bool = False) -> list[nn.Module]:
    """A 'same'-padded convolution followed by BatchNorm."""
    return [nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=bias), nn.BatchNorm2d(cout)]


def basic_branch(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """conv3x3-BN-ReLU-conv3x3-BN: the residual branch of a ResNet BasicBlock."""
    return nn.Sequential(*conv_bn(cin, cout, stride=stride), nn.ReLU(inplace=True), *conv_bn(cout, cout))


class BasicBlock(nn.Module):
    """ReLU(shortcut(x) + branch(x)); the shortcut is a 1x1 conv + BN when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.branch = basic_branch(cin, cout, stride)
        reshape = stride != 1 or cin != cout
        self.shortcut = nn.Sequential(*conv_bn(cin, cout, kernel=1, stride=stride)) if reshape else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.shortcut(x) + self.branch(x))


def ode_position(branch: nn.Module, block: BlockFactory) -> nn.Sequential:
    """The variant's block around ``branch``, followed by ReLU as in a BasicBlock.

    The ReLU is not in place: an ODE block may keep its output for its own backward pass.
    """
    return nn.Sequential(block(branch), nn.ReLU())


class ResNet(nn.Module):
    """CIFAR ResNet: conv3x3 3->16 stem, stages of [BasicBlock..., ODE position], avg_pool2d(8), linear.

    ``stages`` lists (width, stride) per stage; each stage is one BasicBlock followed by one ODE
    position, except a stage of width 16 / stride 1 directly after the stem with
    ``lead_block=False`` (ResNet-4), which is the ODE position alone.
    """

    def __init__(self, stages: list[tuple[int, int]], block: BlockFactory, lead_block: bool = True,
                 spatial: int = 32, num_classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = [*conv_bn(3, 16), nn.ReLU(inplace=True)]
        width = 16
        for cout, stride in stages:
            if lead_block:
                layers.append(BasicBlock(width, cout, stride))
                spatial //= stride
            width = cout
            layers.append(ode_position(basic_branch(width, width), block))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * (spatial // 8) ** 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(F.avg_pool2d(self.features(x), 8), 1))


class AlexNet(nn.Module):
    """The classic CIFAR AlexNet; its square 5x5 64->64 convolution is the ODE position."""

    def __init__(self, block: BlockFactory, num_classes: int = 10):
        super().__init__()
        pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.features = nn.Sequential(
            *conv_bn(3, 64, kernel=5, bias=True), nn.ReLU(inplace=True), pool,
            ode_position(nn.Sequential(*conv_bn(64, 64, kernel=5, bias=True)), block), pool,
        )
        self.classifier = nn.Sequential(
            nn.Linear(64 * 8 * 8, 384), nn.ReLU(inplace=True),
            nn.Linear(384, 192), nn.ReLU(inplace=True),
            nn.Linear(192, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


ARCHS: dict[str, Callable[[BlockFactory], nn.Module]] = {
    "alexnet": AlexNet,
    "resnet4": lambda block: ResNet([(16, 1)], block, lead_block=False),
    "resnet10": lambda block: ResNet([(16, 1), (32, 2)], block),
}
"""Architecture name -> constructor taking the block factory for its ODE positions."""


@dataclass(frozen=True)
class Configuration:
    """A registered variant with the options of its blocks (``variant=None``: the residual step)."""

    variant: str | None
    options: Mapping[str, Any] = field(default_factory=dict)


# ANODEV2's kernels evolve by the paper's Eq. 9: tanh after every exact propagator step. The paper
# names "sigmoid or tanh"; sigmoid would map every kernel entry into (0, 1) and lose the sign of the
# trained convolutions, tanh is near the identity for kernel-sized values and keeps it.
PAPER_SIGMA = {"sigma": "tanh", "sigma_placement": "each_step"}
CONFIGURATIONS: dict[str, Configuration] = {
    "baseline": Configuration(None),
    "neuralode": Configuration("neuralode", {"steps": 2}),
    "anode": Configuration("anode", {"steps": 2}),
    "anodev2-c1": Configuration("anodev2", {"steps": 5, **PAPER_SIGMA}),
    "anodev2-c2": Configuration("anodev2", {"steps": 2, "weight_steps": 10, "alignment": "endpoints", **PAPER_SIGMA}),
}
"""The paper's rows (Table 3) by name: which variant, with the paper's step settings."""


def model_names() -> tuple[str, ...]:
    """What :func:`build_model` takes as ``variant``: the paper's rows, then every other registered variant."""
    return (*CONFIGURATIONS, *(name for name in variant_names() if name not in CONFIGURATIONS))


def _check_name(kind: str, name: str, known: Iterable[str]) -> None:
    if name not in known:
        raise InputError(f"unknown {kind} {name!r}; choose one of {', '.join(sorted(known))}")


def block_factory(name: str, **options: Any) -> BlockFactory:
    """The blocks of ``name`` (a configuration or a registered variant); ``options`` override its own."""
    _check_name("variant", name, model_names())
    configuration = CONFIGURATIONS.get(name, Configuration(name))
    options = {**configuration.options, **options}
    if configuration.variant is None:
        if options:
            raise InputError(f"variant {name!r} does not accept options {sorted(options)}")
        return Residual
    variant = get_variant(configuration.variant)
    try:
        return (coupled_variant if variant.coupled else static_variant)(variant, **options)
    except TypeError as err:
        raise InputError(f"variant {name!r} does not accept options {sorted(options)} ({err})") from err


def build_model(arch: str, variant: str = "baseline", **options: Any) -> nn.Module:
    """Build ``arch`` with ``variant`` blocks at its ODE positions; ``options`` go to the variant."""
    _check_name("arch", arch, ARCHS)
    return ARCHS[arch](block_factory(variant, **options))


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (BatchNorm running statistics are buffers and not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def parameter_table() -> str:
    """Markdown table of parameter counts, variants as rows and archs as columns (paper Table 3),
    each cell ours with the paper's beside it; "(over)" marks a count above the paper's."""
    archs = list(ARCHS)
    lines = ["| variant | " + " | ".join(archs) + " |", "|---|" + "---:|" * len(archs)]
    for variant in CONFIGURATIONS:
        cells = []
        for arch in archs:
            count = count_parameters(build_model(arch, variant))
            published = paper.PARAMS_K.get(variant, {}).get(arch)
            cell = f"{count:,} ({count / 1000:.2f}K"
            if published is not None:
                cell += f"; paper {published:.2f}K" + ("" if paper.within_paper_params(count, variant, arch) else "; over")
            cells.append(cell + ")")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
