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


@pytest.mark.parametrize("grad", ["backprop", "checkpoint"])
def test_runs_of_compiled_steps_match_eager_steps(grad: str):
    # 7 steps in runs of 3 (3, 3, 1): a run's states are every output, the last run is shorter.
    field = MLPField()
    stepper = CompiledStepper(HEUN, backend="aot_eager", steps_per_call=3)
    y0 = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64).reshape(2, 3).requires_grad_()
    times = torch.linspace(0.0, 1.0, 8, dtype=torch.float64)
    results = []
    for method in ("heun", stepper):
        ys = physode.odeint(field, y0, times, method=method, grad=grad)
        results.append((ys, torch.autograd.grad(ys.sin().sum(), [y0, *field.parameters()])))
    (eager, eager_grads), (compiled, compiled_grads) = results
    torch.testing.assert_close(compiled, eager, rtol=1e-12, atol=1e-12)
    for a, b in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_other_step_sizes_reuse_the_compiled_graphs():
    # Step sizes and times are traced as inputs, not constants: no compilation per step size
    # (AOT autograd, as inductor runs it, would pin a constant `alpha=dt`).
    from torch._dynamo.backends.common import aot_autograd

    torch.compiler.reset()  # other tests' graphs of the same code count towards the recompile limit
    compilations = []

    def counting_compiler(graph, example_inputs):
        compilations.append(graph)
        return graph.forward

    field = MLPField()
    stepper = CompiledStepper(HEUN, backend=aot_autograd(fw_compiler=counting_compiler), steps_per_call=4)
    y0 = torch.ones(2, 3, dtype=torch.float64)
    counts = []
    with torch.no_grad():
        for end in (1.0, 1.3, 2.7):
            physode.odeint(field, y0, torch.linspace(0.0, end, 9, dtype=torch.float64), method=stepper)
            counts.append(len(compilations))
    assert counts[0] >= 1 and counts == [counts[0]] * 3


@pytest.mark.parametrize("grad", ["backprop", "checkpoint", "recursive"])
def test_a_static_block_hands_runs_of_steps_to_the_compiled_stepper(grad: str):
    # 7 steps in runs of 3 (3, 3, 1) where no weight moves; recursive steps one at a time.
    runs = []

    class CountingRuns(CompiledStepper):
        def steps(self, func, times, y, sizes=None):
            runs.append(len(times) - 1)
            return super().steps(func, times, y, sizes)

    def block(method) -> physode.ODEBlock:
        torch.manual_seed(0)
        f = nn.Sequential(nn.Conv1d(2, 2, 3, padding=1), nn.Tanh()).double()
        return physode.ODEBlock(f, steps=7, t1=0.7, method=method, grad="backprop" if method == "heun" else grad)

    z = torch.linspace(-1.0, 1.0, 16, dtype=torch.float64).reshape(2, 2, 4)
    results = []
    for model in (block("heun"), block(CountingRuns(HEUN, backend="aot_eager", steps_per_call=3))):
        out = model(z)
        results.append((out, torch.autograd.grad(out.sin().sum(), list(model.parameters()))))
    (eager, eager_grads), (compiled, compiled_grads) = results
    assert runs == {"backprop": [3, 3, 1], "checkpoint": [3, 3, 1] * 2, "recursive": []}[grad]
    torch.testing.assert_close(compiled, eager, rtol=1e-12, atol=1e-12)
    for a, b in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
