"""The fourier family on 2-D fields: 2-D spectral convolutions commute with periodic shifts, every
variant's checkpoint gradients equal backprop in float64, and a walled field is mirrored."""

from __future__ import annotations

import pytest
import torch

from physode.errors import InputError
from physode.gradients import get_gradient
from physode.nn.fourier2d import FourierField2d, SpectralConv2d
from physode.problems.fitting.models import Grid
from physode.problems.fitting.models.fourier import FourierModelConfig
from physode.variants import get_variant, variant_names

# The latent and Galerkin variants need a ``latent`` setting the fourier family has in neither 1-D nor 2-D.
FOURIER_VARIANTS = [name for name in variant_names() if "latent" not in get_variant(name).settings]
TIMES = [0.0, 0.1, 0.25]
SHIFTS = [(1, 0), (0, 1), (3, 2), (-2, 5)]


@pytest.mark.parametrize("shape, modes", [((8, 8), 3), ((9, 6), 4), ((4, 4), 6)])
@pytest.mark.parametrize("velocity_units", [False, True])
def test_spectral_conv2d_is_equivariant_to_periodic_shifts_in_both_axes(shape, modes, velocity_units) -> None:
    torch.manual_seed(0)
    conv = SpectralConv2d(2, 3, modes, velocity_units=velocity_units).double()
    u = torch.randn(2, 2, *shape, dtype=torch.float64)
    out = conv(u)
    assert out.shape == (2, 3, *shape) and out.abs().max() > 0.1
    for shift in SHIFTS:
        torch.testing.assert_close(conv(torch.roll(u, shift, dims=(-2, -1))), torch.roll(out, shift, dims=(-2, -1)),
                                   rtol=0, atol=1e-12)


def test_spectral_conv2d_keeps_exactly_its_modes() -> None:
    """A mode inside the kept set comes through multiplied; one outside (|k_y| >= modes) is dropped."""
    conv = SpectralConv2d(1, 1, 2).double()
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[..., 0] = 2.0  # multiplier 2 on every kept mode
    y, x = torch.meshgrid(torch.arange(8.0, dtype=torch.float64), torch.arange(8.0, dtype=torch.float64), indexing="ij")
    kept = torch.cos(2 * torch.pi * (y + x) / 8)  # k = (1, 1) and (-1, -1)
    dropped = torch.cos(2 * torch.pi * 2 * y / 8)  # |k_y| = 2
    torch.testing.assert_close(conv((kept + dropped)[None, None])[0, 0], 2 * kept, rtol=0, atol=1e-12)


@pytest.mark.parametrize("linear", [False, True])
def test_fourier_field2d_is_shift_equivariant(linear) -> None:
    torch.manual_seed(1)
    field = FourierField2d(2, width=4, modes=3, blocks=2, linear=linear).double()
    torch.nn.init.normal_(field.projection.weight)
    u = torch.randn(2, 2, 8, 6, dtype=torch.float64)
    out = field(u)
    for shift in SHIFTS:
        torch.testing.assert_close(field(torch.roll(u, shift, dims=(-2, -1))), torch.roll(out, shift, dims=(-2, -1)),
                                   rtol=0, atol=1e-12)


def _model(variant: str, periodic: bool = True):
    torch.manual_seed(0)
    config = FourierModelConfig(variant=variant, width=4, modes=2, blocks=1, hidden=4, linear=True)
    model = config.build(Grid((6, 4), (0.3, 0.25), periodic), 2).double()
    torch.nn.init.normal_(model.ode.field.projection.weight, std=0.3)  # starts at zero: no gradient through the blocks
    return model


@pytest.mark.parametrize("variant", FOURIER_VARIANTS)
def test_every_2d_fourier_variant_has_checkpoint_gradients_equal_to_backprop_in_float64(variant) -> None:
    u0 = torch.randn(2, 2, 6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    gradients = {}
    for strategy in ("checkpoint", "backprop"):
        model = _model(variant)
        model.ode.block.grad = get_gradient(strategy)
        model(u0, TIMES).square().sum().backward()
        gradients[strategy] = [p.grad for p in model.parameters() if p.requires_grad]
    # (anodev2-neural's q starts at zero output: its inner layers get no gradient at first.)
    assert all(g is not None for g in gradients["backprop"]) and sum(g.abs().sum() for g in gradients["backprop"]) > 0
    for got, want in zip(gradients["checkpoint"], gradients["backprop"], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_gradcheck_on_a_tiny_walled_2d_fourier_anodev2_model() -> None:
    model = _model("anodev2", periodic=False)
    u0 = torch.randn(1, 2, 6, 4, dtype=torch.float64, requires_grad=True)
    assert model.extension.grid_shape((6, 4)) == (12, 8)
    assert torch.autograd.gradcheck(lambda u: model(u, [0.0, 0.2]), (u0,))


def test_latent_variants_are_refused_by_the_2d_fourier_family_as_in_1d() -> None:
    assert set(variant_names()) - set(FOURIER_VARIANTS) == {"anodev2-latent", "galerkin"}
    for variant in ("anodev2-latent", "galerkin"):
        for grid in (Grid((16,), (0.1,)), Grid((6, 4), (0.3, 0.25))):
            with pytest.raises(InputError, match=f"variant '{variant}'"):
                FourierModelConfig(variant=variant).build(grid, 1)


def test_the_fourier_family_refuses_a_walled_1d_field() -> None:
    with pytest.raises(InputError, match="periodic 1-D fields and 2-D ones"):
        FourierModelConfig().build(Grid((16,), (0.1,), periodic=False))
