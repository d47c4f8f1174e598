"""CIFAR-10 networks: exact paper parameter counts and swappable ODE positions."""

import pytest
import torch
from torch import nn

from physode.errors import InputError
from physode.problems.cifar10 import models
from physode.problems.cifar10.models import Residual, build_model, count_parameters, parameter_table


@pytest.mark.parametrize("arch,params,positions", [("alexnet", 1_756_682, 1), ("resnet4", 7_706, 1),
                                                   ("resnet10", 44_186, 2)])
def test_baseline_parameter_counts_and_ode_positions(arch, params, positions):
    model = build_model(arch)
    assert count_parameters(model) == params
    assert sum(isinstance(m, Residual) for m in model.modules()) == positions
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_resnet10_ode_positions_are_the_second_block_of_each_stage():
    widths = [m.branch[0].in_channels for m in build_model("resnet10").modules() if isinstance(m, Residual)]
    assert widths == [16, 32]


def test_registered_variant_wraps_the_same_branch(monkeypatch):
    class Twice(nn.Module):  # stands in for an ODE block: two Euler steps of the same f
        def __init__(self, f: nn.Module, steps: int):
            super().__init__()
            self.f, self.steps = f, steps

        def forward(self, z):
            for _ in range(self.steps):
                z = z + self.f(z) / self.steps
            return z

    monkeypatch.setitem(models.VARIANTS, "twice", lambda steps=2: lambda f: Twice(f, steps))
    model = build_model("resnet4", "twice", steps=3)
    assert count_parameters(model) == 7_706 and any(isinstance(m, Twice) and m.steps == 3 for m in model.modules())
    assert "twice" in parameter_table()
    with pytest.raises(InputError, match="does not accept"):
        build_model("resnet4", "twice", nonsense=1)


@pytest.mark.parametrize("arch,variant,listed", [("vgg", "baseline", "alexnet, resnet10, resnet4"),
                                                 ("resnet4", "nope", "baseline")])
def test_unknown_names_list_the_valid_ones(arch, variant, listed):
    with pytest.raises(InputError, match=listed):
        build_model(arch, variant)


def test_parameter_table_has_paper_layout():
    table = parameter_table()
    assert table.splitlines()[0] == "| variant | alexnet | resnet4 | resnet10 |"
    assert ("| baseline | 1,756,682 (1756.68K; paper 1756.68K) | 7,706 (7.71K; paper 7.71K) "
            "| 44,186 (44.19K; paper 44.19K) |") in table
    assert [line.split(" |")[0][2:] for line in table.splitlines()[2:]] == list(models.VARIANTS)
    assert "over" not in table
