"""``odeint(..., compile=True)``: compiled steps agree with eager ones, and a failed compilation
falls back to eager steps with a warning."""

import shutil

import pytest
import torch
from torch import nn

import physode
from physode.steppers import HEUN, CompiledStepper, CompileFallbackWarning


class MLPField(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 3)).double()

    def forward(self, t: float, y: torch.Tensor) -> torch.Tensor:
        return self.net(y)


def solve_and_grad(field: MLPField, grad: str, **options) -> tuple[torch.Tensor, list[torch.Tensor]]:
    y0 = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64).reshape(2, 3).requires_grad_()
    ys = physode.odeint(field, y0, torch.linspace(0.0, 1.0, 5, dtype=torch.float64), grad=grad, **options)
    grads = torch.autograd.grad(ys.sin().sum(), [y0, *field.parameters()])
    return ys.detach(), list(grads)


@pytest.mark.skipif(
    not any(shutil.which(c) for c in ("g++", "c++", "clang++")),
    reason="inductor compiles C++ on CPU and no C++ compiler is installed",
)
def test_compiled_steps_match_eager_steps_and_their_gradients():
    # Checkpoint runs the compiled step both without a graph (forward) and with one (backward).
    field = MLPField()
    eager_ys, eager_grads = solve_and_grad(field, "backprop", method="heun")
    compiled_ys, compiled_grads = solve_and_grad(field, "checkpoint", method="heun", compile=True)
    torch.testing.assert_close(compiled_ys, eager_ys, rtol=1e-12, atol=1e-12)
    for compiled, eager in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(compiled, eager, rtol=1e-12, atol=1e-12)


def test_a_failed_compilation_warns_and_steps_eagerly_with_the_same_results():
    def broken_backend(graph, example_inputs):
        raise RuntimeError("no C++ compiler here")

    field = MLPField()
    eager_ys, eager_grads = solve_and_grad(field, "backprop", method="heun")
    stepper = CompiledStepper(HEUN, backend=broken_backend)
    with pytest.warns(CompileFallbackWarning, match="stepping eagerly"):
        ys, grads = solve_and_grad(field, "backprop", method=stepper)
    assert stepper.fallback is not None and "no C++ compiler here" in stepper.fallback
    assert torch.equal(ys, eager_ys)
    assert all(torch.equal(a, b) for a, b in zip(grads, eager_grads))


def test_a_block_with_compiled_steps_matches_eager_backprop():
    # aot_eager traces the step as inductor does (dynamo + AOT autograd) without generating code:
    # fast, and where a block's per-step closures could go wrong.
    def block(method, grad: str) -> physode.ODEBlock:
        torch.manual_seed(0)
        f = nn.Sequential(nn.Conv1d(2, 2, 3, padding=1), nn.Tanh()).double()
        return physode.ODEBlock(f, steps=2, method=method, grad=grad)

    z = torch.linspace(-1.0, 1.0, 16, dtype=torch.float64).reshape(2, 2, 4)
    results = []
    for model in (block("heun", "backprop"), block(CompiledStepper(HEUN, backend="aot_eager"), "checkpoint")):
        out = model(z)
        results.append((out, torch.autograd.grad(out.sin().sum(), list(model.parameters()))))
    (eager, eager_grads), (compiled, compiled_grads) = results
    torch.testing.assert_close(compiled, eager, rtol=1e-12, atol=1e-12)
    for a, b in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
