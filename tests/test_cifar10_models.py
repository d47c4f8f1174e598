"""CIFAR-10 networks: exact paper parameter counts and swappable ODE positions."""

import pytest
import torch

import physode

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


def test_a_registered_variant_is_buildable_by_name(monkeypatch):
    # Any registered variant builds with the default steps; options it does not read are refused.
    from physode.variants import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.register_variant(registry.Variant("anodev2-neural-copy", "copy", "test", registry.VariantStyle("C7"),
                                               operator=lambda spec: physode.Neural(hidden=3, time_input=True)))
    model = build_model("resnet4", "anodev2-neural-copy", steps=3)
    blocks = [m for m in model.modules() if isinstance(m, physode.CoupledODEBlock)]
    assert len(blocks) == 1 and blocks[0].steps == 3
    assert all(isinstance(op, physode.Neural) for op in blocks[0].operators)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert "anodev2-neural-copy" in models.model_names()
    with pytest.raises(InputError, match="does not accept"):
        build_model("resnet4", "anodev2-neural-copy", nonsense=1)
    with pytest.raises(InputError, match="does not accept"):
        build_model("resnet4", "anode", sigma="tanh")
    with pytest.raises(InputError, match="does not accept"):
        build_model("resnet4", "baseline", steps=2)


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
    assert [line.split(" |")[0][2:] for line in table.splitlines()[2:]] == list(models.CONFIGURATIONS)
    assert "over" not in table
