import pytest
import torch
from torch import nn

import physode
from physode.errors import InputError
from physode.models import EVOLVE_GROUPS, FourierODE, FourierODEConfig
from physode.nn import FourierField, SpectralConv1d
from physode.variants import variant_block

# The variants whose settings a Fourier ODE has (anodev2-latent and galerkin need a latent dimension).
VARIANTS = ("anode", "neuralode", "anodev2", "anodev2-neural")
SMALL = {"width": 6, "modes": 5, "blocks": 2, "hidden": 4, "linear": True}


def randomize(module: nn.Module) -> nn.Module:
    """Nonzero values everywhere (the projection starts at zero, which would hide bugs)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.3 * torch.randn_like(p))
    return module


def test_spectral_conv_gradcheck_float64() -> None:
    conv = SpectralConv1d(3, 2, modes=4).double()
    x = torch.randn(2, 3, 10, dtype=torch.float64, requires_grad=True)
    weight = conv.weight.detach().clone().requires_grad_(True)

    def apply(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(conv, {"weight": weight}, (x,))

    assert torch.autograd.gradcheck(apply, (x, weight))


def test_spectral_conv_is_a_fourier_multiplier() -> None:
    # One input and output channel: a single mode k is scaled by its complex weight.
    conv = SpectralConv1d(1, 1, modes=4).double()
    n, k = 16, 3
    x = torch.cos(2 * torch.pi * k * torch.arange(n, dtype=torch.float64) / n)[None, None]
    w = torch.complex(conv.weight[0, 0, k, 0], conv.weight[0, 0, k, 1]).detach()
    expected = (w * torch.exp(2j * torch.pi * k * torch.arange(n, dtype=torch.float64) / n)).real
    torch.testing.assert_close(conv(x)[0, 0].detach(), expected, rtol=0, atol=1e-13)
    # Modes at or above `modes` are removed.
    high = torch.cos(2 * torch.pi * 5 * torch.arange(n, dtype=torch.float64) / n)[None, None]
    assert conv(high).abs().max().item() < 1e-14


def test_modes_above_the_grid_nyquist_are_dropped() -> None:
    conv = randomize(SpectralConv1d(2, 2, modes=16).double())
    x = torch.randn(3, 2, 8, dtype=torch.float64)  # 5 real-FFT modes
    clipped = SpectralConv1d(2, 2, modes=5).double()
    with torch.no_grad():
        clipped.weight.copy_(conv.weight[:, :, :5])
    torch.testing.assert_close(conv(x), clipped(x), rtol=0, atol=1e-14)


@pytest.mark.parametrize("n_x", [8, 17, 64])
@pytest.mark.parametrize("time_input", [False, True])
def test_field_is_shift_equivariant(n_x: int, time_input: bool) -> None:
    generator = torch.Generator().manual_seed(n_x)
    sizes = {k: SMALL[k] for k in ("width", "modes", "blocks", "linear")}
    field = randomize(FourierField(3, time_input=time_input, **sizes))
    field = field.double()
    u = torch.randn(4, 3, n_x, dtype=torch.float64, generator=generator)
    args = (0.3,) if time_input else ()
    for shift in torch.randint(1, n_x, (3,), generator=generator).tolist():
        shifted = field(*args, torch.roll(u, shift, dims=-1))
        torch.testing.assert_close(shifted, torch.roll(field(*args, u), shift, dims=-1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_channels_and_dtype(channels: int, dtype: torch.dtype) -> None:
    model = FourierODE(FourierODEConfig(variant="anodev2", **SMALL), channels).to(dtype)
    randomize(model)
    u0 = torch.randn(2, channels, 12, dtype=dtype)
    out = model(u0, [0.0, 0.1, 0.3])
    assert out.shape == (2, 3, channels, 12) and out.dtype == dtype
    assert torch.equal(out[:, 0], u0)
    assert out[:, 1:].sub(u0[:, None]).abs().max() > 0


def test_linear_term_in_velocity_units_is_advection() -> None:
    # W_k = i c at every mode: L u = c u_x (domain length 1) for a band-limited u.
    field = FourierField(1, width=4, modes=9, blocks=1, linear=True).double()
    c = 0.7
    with torch.no_grad():
        field.linear.weight.zero_()
        field.linear.weight[..., 1] = c
        field.projection.bias.zero_()
    x = torch.arange(32, dtype=torch.float64) / 32
    u = torch.sin(2 * torch.pi * 3 * x) + 0.5 * torch.cos(2 * torch.pi * 8 * x)
    u_x = 2 * torch.pi * (3 * torch.cos(2 * torch.pi * 3 * x) - 4 * torch.sin(2 * torch.pi * 8 * x))
    torch.testing.assert_close(field(u[None, None])[0, 0].detach(), c * u_x, rtol=0, atol=1e-12)


def test_new_field_is_the_identity_flow() -> None:
    model = FourierODE(FourierODEConfig(**{**SMALL, "linear": False}), 2)
    u0 = torch.randn(3, 2, 16)
    assert torch.allclose(model(u0, [0.0, 0.5, 1.0])[:, -1], u0 + model.field.projection.bias[:, None])


def variant_losses(
    variant: str, grad: str, state: dict | None, linear: bool = True
) -> tuple[dict, dict[str, torch.Tensor]]:
    torch.manual_seed(1)
    config = FourierODEConfig(variant=variant, **{**SMALL, "linear": linear})
    model = FourierODE(config, 2, grad=grad).double()
    if state is None:
        randomize(model)
        state = model.state_dict()
    model.load_state_dict(state)
    u0 = torch.randn(3, 2, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    u0.requires_grad_(True)
    target = torch.randn(3, 4, 2, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    loss = (model(u0, [0.0, 0.1, 0.25, 0.3]) - target).square().mean()
    loss.backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    grads["u0"] = u0.grad
    return state, grads


@pytest.mark.parametrize("variant", VARIANTS)
def test_checkpoint_gradients_equal_backprop(variant: str) -> None:
    state, reference = variant_losses(variant, "backprop", None)
    _, checkpointed = variant_losses(variant, "checkpoint", state)
    assert set(reference) == set(checkpointed)
    for name, grad in reference.items():
        assert grad is not None and grad.abs().max() > 0, name
        torch.testing.assert_close(checkpointed[name], grad, rtol=0, atol=1e-12, msg=name)


def test_neuralode_adjoint_is_close_to_backprop() -> None:
    # The continuous adjoint is not the discrete gradient, but on these short smooth steps it is
    # close (without the random linear term, whose high modes make the steps stiff).
    state, reference = variant_losses("neuralode", "backprop", None, linear=False)
    _, adjoint = variant_losses("neuralode", "adjoint", state, linear=False)
    for name, grad in reference.items():
        assert (adjoint[name] - grad).norm() <= 1e-6 * grad.norm(), name


def test_variants_use_their_strategy_and_time_input() -> None:
    grads = {v: type(FourierODE(FourierODEConfig(variant=v), 1).block.grad).__name__ for v in VARIANTS}
    assert grads == {"anode": "Checkpoint", "neuralode": "Adjoint", "anodev2": "Checkpoint",
                     "anodev2-neural": "Checkpoint"}
    assert FourierODE(FourierODEConfig(variant="neuralode"), 1).field.lift.in_channels == 2


@pytest.mark.parametrize("evolve", EVOLVE_GROUPS)
@pytest.mark.parametrize("variant", ["anodev2", "anodev2-neural"])
def test_evolution_overhead_is_under_five_percent(variant: str, evolve: str) -> None:
    model = FourierODE(FourierODEConfig(variant=variant, evolve=(evolve,), linear=True), 1)
    assert model.block.evolved == tuple(model.evolved_names())
    assert 0 < model.evolution_parameter_count() < 0.05 * model.network_parameter_count()


def test_anodev2_weights_follow_the_reaction() -> None:
    # Default operator: theta(t) = theta0 exp(rho t), one rate per hidden feature of the projection.
    model = FourierODE(FourierODEConfig(variant="anodev2", **SMALL), 1).double()
    randomize(model)
    rho = model.block.operators[0].rho.detach()
    w0 = model.field.projection.weight.detach()
    (path,) = model.block.weight_trajectory([0.5], output_times=[0.0, 0.5, 1.0]).values()
    torch.testing.assert_close(path[0], w0 * torch.exp(0.5 * rho)[:, None], rtol=1e-13, atol=0)


def test_anodev2_can_evolve_several_groups() -> None:
    config = FourierODEConfig(variant="anodev2", evolve=["linear", "projection"], **{**SMALL, "blocks": 1})
    model = FourierODE(config, 1)
    assert config.evolve == ("linear", "projection")
    assert model.block.evolved == ("linear.weight", "projection.weight")


def test_any_evolution_operator_can_be_passed() -> None:
    operator = physode.Neural(hidden=3)
    model = FourierODE(FourierODEConfig(variant="anodev2", evolve=["spectral"]), 1, operator=operator)
    assert all(isinstance(op, physode.Neural) for op in model.block.operators)
    assert len(model.block.operators) == 2


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FourierODE(FourierODEConfig(), 2)(torch.zeros(2, 64), [0.0, 1.0]), r"\(batch, 2, Nx\)"),
        (lambda: FourierODE(FourierODEConfig(), 1)(torch.zeros(2, 3, 64), [0.0, 1.0]), r"\(batch, 1, Nx\)"),
        (lambda: FourierODE(FourierODEConfig(), 1)(torch.zeros(2, 1, 8, dtype=torch.float64), [0.0, 1.0]),
         "dtype"),
        (lambda: FourierODEConfig(variant="resnet"), "unknown variant"),
        (lambda: FourierODEConfig(evolve="lift"), "weight group"),
        (lambda: FourierODEConfig(evolve=()), "weight group"),
        (lambda: FourierODEConfig(evolve=("linear",)), "linear=True"),
        (lambda: FourierODEConfig(modes=0), "modes"),
        (lambda: FourierODEConfig(method="rk7"), "method"),
        (lambda: FourierODE(FourierODEConfig(), 1, operator=physode.Neural()), "static weights"),
        (lambda: variant_block("anodev2", FourierField(1)), "names of the weights"),
        (lambda: FourierODE(FourierODEConfig(variant="anodev2-latent"), 1), "needs the model setting 'latent'"),
        (lambda: FourierField(0), "channels"),
    ],
)
def test_bad_input_is_one_line(build, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        build()
    assert "\n" not in str(info.value)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("variant", VARIANTS)
def test_cuda_matches_cpu(variant: str) -> None:
    model = randomize(FourierODE(FourierODEConfig(variant=variant, **SMALL), 2).double())
    u0 = torch.randn(3, 2, 16, dtype=torch.float64)
    times = [0.0, 0.2, 0.5]
    expected = model(u0, times)
    expected.square().sum().backward()
    cpu_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.cuda()
    out = model(u0.cuda(), times)
    out.square().sum().backward()
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-10, atol=1e-12)
    for p, g in zip(model.parameters(), cpu_grads):
        torch.testing.assert_close(p.grad.cpu(), g, rtol=1e-9, atol=1e-11)
