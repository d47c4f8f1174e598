"""The linear family's per-mode step matrices are its stage loop: same solution, same gradients."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.func import functional_call

from physode.errors import InputError
from physode.gradients import get_gradient
from physode.problems.fitting.evaluate import load_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import LAYERS, ModelConfig, build_model
from physode.steppers import TABLEAUS, stage_times, step_increments
from physode.training.checkpoint import load_checkpoint, save_checkpoint
from physode.trajectories import TrajectoryFile, write_trajectories
from physode.variants import get_variant, variant_names

FIXED_STEP = ("euler", "midpoint", "heun", "rk4")
#: Every variant the multipliers serve: all but those with time as an input (Neural ODE).
VARIANTS = [v for v in variant_names() if not get_variant(v).time_input]
NX = 12
X = np.arange(NX) / NX
TIMES = [0.0, 0.1, 0.25, 0.3]  # uneven intervals


def _models(variant: str, layer: str, channels: int, method: str = "rk4") -> tuple[torch.nn.Module, torch.nn.Module]:
    """A float64 model with every parameter randomized, on the stage loop and on the multipliers."""
    torch.manual_seed(0)
    config = ModelConfig(variant=variant, layer=layer, method=method, width=5, latent=3, init_scale=0.3,
                         steps_per_interval=2, solver="stages")
    stages = build_model(config, X, channels).double()
    with torch.no_grad():
        for p in stages.parameters():
            p.add_(0.2 * torch.randn_like(p))
    multipliers = build_model(dataclasses.replace(config, solver="multipliers"), X, channels).double()
    multipliers.load_state_dict(stages.state_dict())
    return stages, multipliers


def _u0(channels: int) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randn(3, NX, dtype=torch.float64) if channels == 1 else torch.randn(3, channels, NX, dtype=torch.float64)


@pytest.mark.parametrize("method", FIXED_STEP)
def test_constant_generator_step_is_the_stability_polynomial(method: str) -> None:
    tableau = TABLEAUS[method]
    z = torch.tensor([-0.7 + 0.4j, 0.3j, 1.1 - 0.2j], dtype=torch.complex128)
    grid = [0.0, 0.5]
    generators = (z / 0.5)[None, None, :, None, None].expand(1, tableau.stages, 3, 1, 1)
    polynomial = sum(z**j / math.factorial(j) for j in range(tableau.order + 1))  # R(z) of these methods
    assert len(stage_times(tableau, grid)) == tableau.stages
    torch.testing.assert_close(1 + step_increments(tableau, grid, generators)[0, :, 0, 0], polynomial, rtol=1e-14, atol=0)


@pytest.mark.parametrize("method", FIXED_STEP)
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_multipliers_equal_the_stage_loop(variant: str, layer: str, channels: int, method: str) -> None:
    stages, multipliers = _models(variant, layer, channels, method)
    u0 = _u0(channels)
    reference = stages(u0, TIMES)
    fast = multipliers(u0, TIMES)
    assert fast.shape == reference.shape
    assert reference.abs().max() > 0.5 and (reference[:, -1] - reference[:, 0]).abs().max() > 1e-2  # it moved
    torch.testing.assert_close(fast, reference, rtol=0, atol=1e-13 * reference.abs().max().item())


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_multipliers_gradients_equal_backprop_through_the_stage_loop(variant: str, layer: str, channels: int) -> None:
    stages, multipliers = _models(variant, layer, channels, "heun" if channels == 2 else "rk4")
    stages.block.grad = get_gradient("backprop")
    u0 = _u0(channels)
    target = torch.randn(3, len(TIMES), *u0.shape[1:], dtype=torch.float64)
    grads = []
    for model in (stages, multipliers):
        ((model(u0, TIMES) - target) ** 2).sum().backward()
        grads.append({name: p.grad for name, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for name, reference in grads[0].items():
        assert reference is not None and grads[1][name] is not None, name
        torch.testing.assert_close(grads[1][name], reference, rtol=1e-10, atol=1e-12 * reference.abs().max().item())


@pytest.mark.parametrize("variant", ["anode", "anodev2"])
def test_multipliers_pass_gradcheck(variant: str) -> None:
    _, model = _models(variant, "spectral", 1)
    params = dict(model.named_parameters())
    u0 = _u0(1)[:1]

    def solve(*values: torch.Tensor) -> torch.Tensor:
        return functional_call(model, dict(zip(params, values)), (u0, TIMES[:3]))

    assert torch.autograd.gradcheck(solve, tuple(p.detach().requires_grad_() for p in params.values()))


def test_solver_choice_is_checked() -> None:
    assert ModelConfig(variant="anodev2").uses_multipliers
    assert not ModelConfig(variant="neuralode").uses_multipliers  # auto keeps its adjoint stage loop
    assert not ModelConfig(variant="anodev2", solver="stages").uses_multipliers
    with pytest.raises(InputError, match="takes time as an input.*use --solver stages"):
        ModelConfig(variant="neuralode", solver="multipliers")
    with pytest.raises(InputError, match="not an explicit Runge-Kutta tableau"):
        ModelConfig(method="ifrk4", solver="multipliers")
    with pytest.raises(InputError, match="unknown solver"):
        ModelConfig(solver="fast")
    assert "solver" not in ModelConfig().shaping_settings()  # a run resumes under either


def _file(path: Path) -> Path:
    t = np.linspace(0.0, 0.4, 5)
    b = np.arange(6)[:, None, None]
    u = (1 + b) * np.sin(2 * np.pi * (X - 0.5 * t[:, None])) + 0.3 * np.cos(4 * np.pi * (X + b * t[:, None]))
    return write_trajectories(path, u, t, X, equation="test", test_mask=np.arange(6) % 3 == 0)


def test_a_stage_loop_checkpoint_loads_and_evaluates_equal_under_the_default(tmp_path: Path) -> None:
    path = _file(tmp_path / "u.h5")
    config = FitConfig(model=ModelConfig(variant="anodev2", solver="stages"), epochs=2, batch_size=2, lr=0.05,
                       polish=0, progress=False, dtype="float64")
    fit(path, tmp_path / "run", config, device="cpu")
    stage_model = load_run(tmp_path / "run").model
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    state = load_checkpoint(checkpoint)
    del state["config"]["model"]["solver"]  # as written before the solver setting existed
    save_checkpoint(checkpoint, state)
    model = load_run(tmp_path / "run").model
    assert model.config.solver == "auto" and model.config.uses_multipliers
    with TrajectoryFile(path) as data, torch.no_grad():
        u0 = data.batch(data.test)[:, 0].double()
        reference, fast = stage_model(u0, data.t.tolist()), model(u0, data.t.tolist())
    torch.testing.assert_close(fast, reference, rtol=1e-12, atol=1e-12)
    resumed = fit(path, tmp_path / "run", dataclasses.replace(config, model=ModelConfig(variant="anodev2")),
                  device="cpu", resume=True)
    assert math.isfinite(resumed["test_nrmse"])
