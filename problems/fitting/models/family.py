"""What every model family of ``physode fit --model`` is: a config class registered by family name.

A family is one frozen dataclass subclassing :class:`ModelFamily` with ``family="name"``; defining
it registers it, and everything that names families (``--model``'s choices and options, stored
runs, tables, learning-rate defaults) reads it from there. Its config has the fields ``variant``
(a registered variant), ``steps_per_interval`` and ``method``; the model it builds keeps it as
``model.config`` and maps ``u0`` in the file's layout (one field ``(batch, *grid.shape)``, C fields
``(batch, C, *grid.shape)``) and the stored times to ``(batch, times, ...)``. The built-in
families' layers have one spatial axis (the linear family's also two); :class:`Grid` has as many as the data.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from torch import nn

from physode.errors import InputError
from physode.evolution import LinearLatent
from physode.nn import CoupledODEBlock
from physode.problems.fitting.family_options import FAMILIES

LEGACY_FAMILY = "linear"  # stored before families existed: its configs carry no "kind"


@dataclass(frozen=True)
class Grid:
    """A uniform grid: points per spatial axis and their spacing, periodic or walled (``periodic``
    false: the field's boundary condition is not periodic, e.g. no-flux walls)."""

    shape: tuple[int, ...]
    spacing: tuple[float, ...]
    periodic: bool = True

    @classmethod
    def from_space(cls, space: Mapping[str, np.ndarray], stored_dtype: np.dtype | None = None,
                   periodic: bool = True) -> Grid:
        """The grid of the spatial axes ``space`` (name -> coordinates, in the field's axis order),
        each uniform as :meth:`from_points` requires."""
        axes = [cls.from_points(values, stored_dtype, name) for name, values in space.items()]
        return cls(tuple(a.shape[0] for a in axes), tuple(a.spacing[0] for a in axes), periodic)

    @classmethod
    def from_points(cls, x: np.ndarray, stored_dtype: np.dtype | None = None, name: str = "x") -> Grid:
        """The 1-D grid of the coordinates ``x`` (uniform, at least 4 points).

        ``stored_dtype`` is the dtype ``x`` was stored in (default: ``x``'s own). Uniform means
        every spacing within 1e-6 of the mean, or within what rounding to that dtype can move two
        neighbours apart (4 eps max|x|), whichever is larger: a float32 grid as PDEBench and py-pde
        store it (64 points on [0, 2 pi): spacings up to 2.8e-6 relative from their mean) is uniform.
        """
        stored = np.dtype(stored_dtype if stored_dtype is not None else np.asarray(x).dtype)
        resolution = float(np.finfo(stored).eps) if np.issubdtype(stored, np.floating) else 0.0  # integers are exact
        x = np.asarray(x, dtype=np.float64)
        if x.size < 4:
            raise InputError(f"the {name} grid has {x.size} points; a field model needs at least 4")
        spacing = np.diff(x)
        dx = float(spacing.mean())
        tolerance = max(1e-6 * abs(dx), 4 * resolution * float(np.abs(x).max()))
        if np.abs(spacing - dx).max() > tolerance:
            raise InputError(f"the {name} grid is not uniform (spacings {spacing.min():.6g} to {spacing.max():.6g}, "
                             f"more than its {stored.name} storage explains); "
                             "the models assume a uniform grid")
        return cls((x.size,), (dx,))


_FAMILIES: dict[str, type[ModelFamily]] = {}


class ModelFamily:
    """Base of a model family's config; ``class Mine(ModelFamily, family="mine")`` registers it.

    Class attributes a family may set: ``summary`` (``--help``), ``default_lr``,
    ``default_rate_lr`` (None: ``lr``), ``default_polish`` (None: by the parameter count, see
    :func:`~physode.problems.fitting.fit_config.default_polish`), ``default_windows`` (see
    :class:`~physode.problems.fitting.fit_config.FitConfig`) and ``options``, its own
    command-line flags mapped to their argument names (what :meth:`add_options` adds).
    """

    family: ClassVar[str]
    summary: ClassVar[str] = ""
    default_lr: ClassVar[float] = 0.03
    default_rate_lr: ClassVar[float | None] = None
    default_polish: ClassVar[int | None] = None
    default_windows: ClassVar[int] = 0  # FitConfig.windows where the variant's weights are static
    options: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, family: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if family is None:
            return
        if family in _FAMILIES:
            raise InputError(f"model family {family!r} is already registered")
        cls.family = family
        FAMILIES.offer(family, cls.summary, cls.add_options)  # the command line's choices (family_options.py)
        _FAMILIES[family] = cls
        if family != LEGACY_FAMILY:
            # A stored config names its family in "kind": a field, so that it travels with the
            # dataclass through every dataclasses.asdict of a run's config.
            cls.__annotations__ = {**cls.__dict__.get("__annotations__", {}), "kind": "str"}
            cls.kind = dataclasses.field(default=family, init=False)

    # -- building and storing --------------------------------------------------------------------

    def build(self, grid: Grid, channels: int = 1) -> nn.Module:
        """The (untrained) model for ``channels`` fields on ``grid``."""
        raise NotImplementedError

    @classmethod
    def from_stored(cls, values: dict[str, Any]) -> ModelFamily:
        """The config of stored settings (less ``kind``): unknown keys are an error, missing ones
        take the defaults."""
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = set(values) - names
        if unknown:
            raise InputError(f"unknown {cls.family} model settings {sorted(unknown)}; known: {sorted(names)}")
        return cls(**values)

    def describe(self) -> dict[str, str]:
        """What tables and metrics name a model by: its family and variant."""
        return {"model": self.family, "variant": self.variant}

    def shaping_settings(self) -> dict[str, Any]:
        """The settings that shape this model (a resume must match them)."""
        return dataclasses.asdict(self)

    # -- training ----------------------------------------------------------------------------------

    def rate_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        """The rates of order one (trained at ``rate_lr``): the weight evolution's parameters."""
        return [p for m in model.modules() if isinstance(m, CoupledODEBlock) for p in m.operators.parameters()]

    def parameter_groups(self, model: nn.Module, lr: float, rate_lr: float | None) -> list[dict[str, Any]]:
        """Adam's parameter groups: the weights at ``lr``, the rates of order one at ``rate_lr``.

        The rates are ANODEV2's evolution parameters (e.g. the reaction 1.5 of ``nu0 exp(1.5 t)``)
        and a fourier model's linear term. Next to weights of 0.01 (a small diffusivity in velocity
        units) one learning rate cannot serve both within a few hundred steps: sized for the
        weights, a rate cannot travel its distance (Adam moves a parameter by about its summed
        learning rates) and the fit settles where larger static weights mimic a smaller growth.
        ``rate_lr=None``: one group.

        A :class:`physode.LinearLatent`'s generator (its frequencies, growth and decay) stays with
        the weights at ``lr``: at ``rate_lr`` its steps move every read-out basis function's phase
        at once and the fit loses the match (measured, transport with a tanh switch in c(t):
        training loss 0.08 after Adam with the generator at 0.1, 1.5e-3 at 0.01).
        """
        rates = self.rate_parameters(model)
        generators = [p for m in model.modules() if isinstance(m, LinearLatent) for p in m.generator_parameters()]
        rates = [r for r in rates if all(r is not g for g in generators)]
        weights = [p for p in model.parameters() if all(p is not r for r in rates)]
        if rate_lr is None or not rates:
            return [{"params": weights + rates, "lr": lr}]
        return [{"params": weights, "lr": lr}, {"params": rates, "lr": rate_lr}]

    # -- command line ------------------------------------------------------------------------------

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the family's own options (those in ``options``) to ``physode fit`` (a plugin's family;
        the built-in ones' are in :mod:`physode.problems.fitting.family_options`, which ``--help`` reads
        without importing torch)."""

    @classmethod
    def from_options(cls, args: argparse.Namespace) -> ModelFamily:
        """The config of ``physode fit``'s parsed arguments (shared ones: ``variant``,
        ``steps_per_interval``, ``method``, ``hidden``, ``modes``; and the family's own)."""
        raise NotImplementedError


def family_names() -> tuple[str, ...]:
    """Every registered family's name, in registration order."""
    return tuple(_FAMILIES)


def family_named(name: str) -> type[ModelFamily]:
    """The family registered as ``name``."""
    if name not in _FAMILIES:
        raise InputError(f"unknown model kind {name!r}; known: {', '.join(_FAMILIES)}")
    return _FAMILIES[name]


def stored_config(values: dict[str, Any]) -> ModelFamily:
    """The config of a stored model config (its family named by ``kind``, default the legacy one)."""
    values = dict(values)
    return family_named(values.pop("kind", LEGACY_FAMILY)).from_stored(values)


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters (weights of the network plus those of the evolution operator)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
