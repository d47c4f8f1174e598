"""The registries: a new variant and a new model family, each in a user's module, work everywhere.

A plugin written to a temporary file defines an evolution operator with one variant and a model
family; ``PHYSODE_PLUGINS`` names it. Then ``physode fit`` trains with each, ``physode plot`` draws
both runs, and CIFAR-10 builds and runs the new variant: no list of names outside the registries
needed an edit.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import physode
from physode.catalog import VARIANTS
from physode.cli import main
from physode.errors import InputError
from physode.plugins import PLUGINS_ENV
from physode.problems.cifar10.models import build_model, count_parameters
from physode.problems.fitting.family_options import FAMILIES
from physode.problems.fitting.models import family, family_names
from physode.problems.pde import simulate_transport_to_file
from physode.training.checkpoint import load_checkpoint
from physode.variants import registry, variant_names

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = '''
"""A user's plugin: an evolution operator with its variant, and a model family."""
import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

import physode
from physode.problems.fitting.models import Grid, ModelFamily
from physode.variants import Variant, VariantStyle, WeightSpec, get_variant, register_variant, variant_block


class Decay(physode.EvolutionOperator):
    """dw/dt = -lam w: every weight decays at one learned rate."""

    def bind(self, weight):
        self.lam = nn.Parameter(torch.full((), 0.1, dtype=weight.dtype, device=weight.device))

    def rate(self, state, t):
        return -self.lam * state


register_variant(Variant("decay", "Decay", "weights decay at a learned rate", VariantStyle("C8", "-", "o"),
                         operator=lambda spec: Decay()))


class Mix(nn.Module):
    """du/dt = W u: the channels mixed pointwise."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(0.01 * torch.randn(channels, channels))

    def forward(self, *time_and_u):
        return torch.einsum("oi,bix->box", self.weight, time_and_u[-1])


class MixModel(nn.Module):
    def __init__(self, config, channels):
        super().__init__()
        self.config, self.channels = config, channels
        variant = get_variant(config.variant)
        self.field = Mix(channels)
        spec = WeightSpec(shape=(channels, channels), spatial_axes=(), channels=channels,
                          settings=dataclasses.asdict(config))
        self.block = variant_block(variant, self.field, evolve=["weight"] if variant.coupled else (), spec=spec,
                                   steps=config.steps_per_interval, method=config.method)

    def forward(self, u0, times):
        single = u0.ndim == 2
        path = self.block(u0[:, None] if single else u0, times=times).transpose(0, 1)
        return path[:, :, 0] if single else path


@dataclass(frozen=True)
class MixConfig(ModelFamily, family="mix"):
    variant: str = "anode"
    steps_per_interval: int = 1
    method: str = "euler"

    summary = "a pointwise channel mix"
    default_lr = 0.01

    def build(self, grid: Grid, channels: int = 1) -> MixModel:
        return MixModel(self, channels)

    @classmethod
    def from_options(cls, args):
        return cls(variant=args.variant, steps_per_interval=args.steps_per_interval, method=args.method)
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The plugin file, named in PHYSODE_PLUGINS; registries and sys.modules restored afterwards."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(family, "_FAMILIES", dict(family._FAMILIES))
    for catalog in (VARIANTS, FAMILIES):  # the command line's choices, which the registries extend
        monkeypatch.setattr(catalog, "_entries", dict(catalog._entries))
    path = tmp_path / "registry_plugin.py"
    path.write_text(PLUGIN)
    monkeypatch.setenv(PLUGINS_ENV, str(path))
    yield path
    sys.modules.pop(path.stem, None)


def _fit(data: Path, out: Path, *options: str) -> dict:
    assert main(["fit", str(data), "--out", str(out), "--epochs", "2", "--batch-size", "4", "--polish", "0",
                 "--eval-every", "0", "--no-progress", "--device", "cpu", *options]) == 0
    return json.loads((out / "metrics.json").read_text())


def test_a_plugin_variant_and_family_fit_plot_and_build(plugin: Path, tmp_path: Path) -> None:
    data = simulate_transport_to_file(tmp_path / "t.h5", 8, 16, np.linspace(0.0, 0.2, 4), "exponential:c0=0.5,a=1.5",
                                      seed=0, test_fraction=0.25)
    variant_run = _fit(data, tmp_path / "decay", "--variant", "decay")
    assert variant_run["variant"] == "decay" and variant_run["model"] == "linear"
    family_run = _fit(data, tmp_path / "mix", "--model", "mix", "--variant", "decay")
    assert family_run["model"] == "mix" and family_run["params"] == 2  # the mix's weight and the decay rate
    stored = load_checkpoint(tmp_path / "mix" / "checkpoint.pt")["config"]
    assert stored["model"]["kind"] == "mix" and stored["lr"] == 0.01  # the family's name and default lr
    figure = tmp_path / "runs.png"
    assert main(["plot", str(tmp_path / "decay"), str(tmp_path / "mix"), "--out", str(figure)]) == 0
    assert figure.stat().st_size > 0
    assert main(["evaluate", "pde1d", str(tmp_path / "mix")]) == 0

    model = build_model("resnet4", "decay")
    blocks = [m for m in model.modules() if isinstance(m, physode.CoupledODEBlock)]
    assert blocks and all(type(op).__name__ == "Decay" for op in blocks[0].operators)
    assert count_parameters(model) == 7_706 + len(blocks[0].operators)  # baseline plus one rate per conv
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_a_family_option_of_another_family_is_refused(plugin: Path, tmp_path: Path, capsys) -> None:
    assert main(["fit", str(tmp_path / "none.h5"), "--out", str(tmp_path / "r"), "--model", "mix",
                 "--layer", "stencil"]) == 2
    assert "--layer only applies to --model linear" in capsys.readouterr().err


def test_plugin_import_errors_are_input_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from physode.plugins import load_plugins

    monkeypatch.setenv(PLUGINS_ENV, "no_such_physode_plugin")
    with pytest.raises(InputError, match="cannot import 'no_such_physode_plugin'"):
        load_plugins()
    monkeypatch.setenv(PLUGINS_ENV, str(tmp_path / "missing.py"))
    with pytest.raises(InputError, match="cannot import"):
        load_plugins()


def test_registries_refuse_a_second_registration_and_list_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    with pytest.raises(InputError, match="already registered"):
        registry.register_variant(registry.get_variant("anode"))
    with pytest.raises(InputError, match="choose one of anode, neuralode, anodev2"):
        registry.get_variant("resnet")
    with pytest.raises(InputError, match="unknown model kind 'fno'; known: linear, fourier"):
        family.family_named("fno")


def _name_lists(path: Path, names: set[str]) -> list[int]:
    """Lines of ``path`` with a tuple, list, set or dict (keys) of two or more of ``names`` only."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if not isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) or not items or len(items) < 2:
            continue
        if all(isinstance(item, ast.Constant) and item.value in names for item in items):
            lines.append(node.lineno)
    return lines


def test_no_list_of_variant_or_family_names_outside_the_registries() -> None:
    names = set(variant_names()) | set(family_names())
    found = {str(path.relative_to(ROOT)): lines for folder in ("physode", "problems")
             for path in sorted((ROOT / folder).rglob("*.py"))
             if "variants" not in path.parts and (lines := _name_lists(path, names))}
    assert found == {}
