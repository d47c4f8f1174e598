"""Revolve: the recursive strategy's schedule is Griewank's binomial optimum."""

import math
from functools import lru_cache

import pytest
import torch

import physode
from physode.gradients.recursive import optimal_evaluations


@lru_cache(maxsize=None)
def fewest_evaluations(steps: int, snapshots: int) -> int:
    """The optimum by exhaustive dynamic programming over every first snapshot position."""
    if steps == 1:
        return 0
    if snapshots == 0:
        return steps * (steps - 1) // 2
    return min(m + fewest_evaluations(steps - m, snapshots - 1) + fewest_evaluations(m, snapshots) for m in range(1, steps))


def test_binomial_formula_is_the_optimum() -> None:
    for steps in range(1, 70):
        for snapshots in range(6):
            assert optimal_evaluations(steps, snapshots) == fewest_evaluations(steps, snapshots)
    # The textbook value: 50 steps, 8 snapshots + the input -> 2 repetitions.
    assert optimal_evaluations(50, 8) == 2 * 50 - math.comb(11, 1)


@pytest.mark.parametrize("steps, snapshots", [(1, 2), (2, 0), (9, 0), (10, 1), (20, 2), (33, 3), (50, 8), (64, None), (100, 4)])
def test_schedule_meets_the_binomial_optimum_and_the_budget(steps: int, snapshots) -> None:
    strategy = physode.Recursive(snapshots)
    w = torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    y0 = torch.randn(3, dtype=torch.float64, requires_grad=True)
    times = torch.linspace(0, 1, steps + 1).tolist()
    outputs = {}
    for grad in ("backprop", strategy):
        ys = physode.odeint(lambda t, y: torch.tanh(w @ y), y0, times, method="midpoint", grad=grad, params=[w])
        ys.square().sum().backward()
        outputs[str(grad)] = (ys.detach(), y0.grad, w.grad)
        y0.grad = w.grad = None
    budget = strategy.budget(steps)
    assert strategy.untaped_steps == optimal_evaluations(steps, budget)  # forward sweep included
    assert strategy.taped_steps == steps  # each step is taped exactly once
    assert strategy.peak_snapshots <= budget
    (ys_b, *grads_b), (ys_r, *grads_r) = outputs.values()
    assert torch.equal(ys_b, ys_r)
    for a, b in zip(grads_b, grads_r):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-13)


def test_default_budget_is_logarithmic() -> None:
    assert [physode.Recursive().budget(n) for n in (1, 2, 50, 1000)] == [0, 1, 6, 10]
    # ... at a bounded number of repetitions per step.
    assert optimal_evaluations(10_000, 14) < 5 * 10_000
