"""ODE blocks at the CIFAR-10 networks' ODE positions: Neural ODE, ANODE and ANODEV2 (configs 1, 2).

Every ODE variant turns the arch's residual branch ``f`` (convs, BatchNorms, ReLUs) into a
time-aware branch :class:`TimeBranch` ``f(t, z)`` and integrates ``dz/dt = f(t, z)`` on [0, 1]
with explicit Euler, as the paper does. Two layers of ``f`` change:

* **BatchNorm keeps running statistics per z step** (:class:`StepBatchNorm2d`). ``f`` sees a
  different activation distribution at every step; one set of running statistics (the original
  ANODE code) averages them, so evaluation normalises step n with statistics that no training
  step ever used. Per-step statistics make evaluation match training. The affine scale/shift
  stays shared across steps: it is a weight, and a per-step copy would be time-varying weights
  the static variants must not have (that is ANODEV2's job). No parameters are added.
* **Neural ODE / ANODE concatenate time to the channels** of every conv input
  (:class:`TimeConv2d`), with a 1x1 kernel for the time channel, i.e. ``conv(z) + t * a`` with one
  ``a`` per output channel. A full k x k time kernel would cost 25 C on AlexNet's 5x5 conv, over
  the paper's 7 C overhead. ANODEV2 needs no time channel: its weights theta(t) carry the time.

ANODEV2 evolves every conv kernel of ``f`` with :class:`physode.SpectralRDA` (one tau, v, rho per
output channel: 4 C per conv). Extra parameters per ODE block of width C: Neural ODE / ANODE C per
conv (ResNet 2 C, AlexNet C), ANODEV2 4 C per conv (ResNet 8 C, AlexNet 4 C); the paper's
overheads are 16 C / 7 C (NODE, ANODE), 33 C / 13 C (config one), 18 C / 7 C (config two).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from physode.errors import InputError
from physode.variants import Variant, WeightSpec, variant_block, variant_operator

T1 = 1.0  # every ODE block integrates over [0, 1]


class TimeConv2d(nn.Module):
    """``conv(cat[z, t])`` with a 1x1 kernel on the constant time channel: ``conv(z) + t * a``."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.conv = conv
        self.time_weight = nn.Parameter(torch.zeros(conv.out_channels, 1, 1, device=conv.weight.device))

    def forward(self, t: float, z: torch.Tensor) -> torch.Tensor:
        out = self.conv(z)
        return out + t * self.time_weight.to(out.dtype)  # keep autocast's dtype


class StepBatchNorm2d(nn.Module):
    """BatchNorm with one set of running statistics per z step and one shared affine transform.

    The ``steps`` z steps of length ``t1 / steps`` each own a slot; ``f`` evaluated at time t
    uses the slot of the step containing t (stage times inside a step, and the adjoint's
    reverse-time evaluations, included; t = t1 belongs to the last step). The slots are plain
    ``BatchNorm2d(affine=False)`` modules, so data-parallel conversion to synchronised BatchNorm
    applies to them unchanged.
    """

    def __init__(self, norm: nn.BatchNorm2d, steps: int, t1: float = T1):
        super().__init__()
        if not norm.affine:
            raise InputError("StepBatchNorm2d needs an affine BatchNorm2d to take its scale and shift from")
        self.weight, self.bias = norm.weight, norm.bias
        self.stats = nn.ModuleList(
            nn.BatchNorm2d(norm.num_features, norm.eps, norm.momentum, affine=False, device=norm.weight.device)
            for _ in range(steps))
        self.step_length = t1 / steps

    def slot(self, t: float) -> int:
        """Index of the z step containing time ``t``."""
        return min(max(int(t / self.step_length + 1e-6), 0), len(self.stats) - 1)

    def forward(self, t: float, z: torch.Tensor) -> torch.Tensor:
        z = self.stats[self.slot(t)](z)
        return z * self.weight[:, None, None].to(z.dtype) + self.bias[:, None, None].to(z.dtype)


TIMED_LAYERS = (TimeConv2d, StepBatchNorm2d)


class TimeBranch(nn.Module):
    """``f(t, z)``: the layers of a residual branch in order; time-dependent layers get ``t``."""

    def __init__(self, layers: list[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, t: float, z: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            z = layer(t, z) if isinstance(layer, TIMED_LAYERS) else layer(z)
        return z


def time_branch(branch: nn.Module, steps: int, time_channel: bool) -> TimeBranch:
    """Rebuild a residual branch (an ``nn.Sequential``) as ``f(t, z)``, reusing its parameters.

    BatchNorms get per-step statistics; with ``time_channel`` every conv also sees time.
    """
    if not isinstance(branch, nn.Sequential):
        raise InputError(f"ODE variants rebuild an nn.Sequential residual branch, got {type(branch).__name__}")
    layers: list[nn.Module] = []
    for layer in branch:
        if isinstance(layer, nn.BatchNorm2d):
            layer = StepBatchNorm2d(layer, steps)
        elif isinstance(layer, nn.Conv2d) and time_channel:
            layer = TimeConv2d(layer)
        layers.append(layer)
    return TimeBranch(layers)


def conv_weight_names(f: nn.Module) -> list[str]:
    """Parameter names of every conv kernel in ``f`` (what ANODEV2 evolves)."""
    return [f"{name}.weight" for name, module in f.named_modules() if isinstance(module, nn.Conv2d)]


def _check_steps(**counts: int | None) -> None:
    for name, value in counts.items():
        if value is not None and (not isinstance(value, int) or value < 1):
            raise InputError(f"{name} must be a positive integer, got {value!r}")


def static_variant(variant: Variant, steps: int = 2, grad: str | None = None) -> Callable[[nn.Module], nn.Module]:
    """A static-weight variant (Neural ODE, ANODE; gradients: the variant's own unless ``grad``),
    with the time channel."""
    _check_steps(steps=steps)

    def block(branch: nn.Module) -> nn.Module:
        f = time_branch(branch, steps, time_channel=True)
        return variant_block(variant, f, t1=T1, steps=steps, method="euler", grad=grad, time_input=True)

    return block


def coupled_variant(variant: Variant, steps: int = 5, weight_steps: int | None = None, per_channel: bool = True,
                    grad: str | None = None, alignment: str = "stage",
                    **settings: Any) -> Callable[[nn.Module], nn.Module]:
    """A coupled variant (ANODEV2: spectral RDA) evolving the branch's conv kernels; config one
    ``weight_steps=None`` (weights on the z grid), config two ``steps=2, weight_steps=10,
    alignment="endpoints"`` (the z steps apply w0 and w1, the first and last weights of the
    evolution). ``settings``: those the variant reads (``sigma`` for ANODEV2)."""
    _check_steps(steps=steps, weight_steps=weight_steps)
    unknown = sorted(set(settings) - set(variant.settings))
    if unknown:
        raise InputError(f"variant {variant.name!r} does not accept options {unknown}")
    # The kernels' spatial axes are the operator's default (kh, kw); one operator, copied per kernel.
    operator = variant_operator(variant, WeightSpec(per_channel=per_channel, settings=settings))

    def block(branch: nn.Module) -> nn.Module:
        f = time_branch(branch, steps, time_channel=False)
        return variant_block(variant, f, evolve=conv_weight_names(f), operator=operator, t1=T1, steps=steps,
                             method="euler", grad=grad, time_input=True, weight_steps=weight_steps,
                             alignment=alignment)

    return block
