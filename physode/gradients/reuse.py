"""What the steps of a solve compute from the parameters alone (e.g. a weight propagator), built once.

A pass over many steps builds such a value on its first use and hands it to every later step
(:class:`PassReuse`, emptied by :meth:`~physode.gradients.base.DiscreteSolve.start_pass`). Steps
taped one at a time, each with a backward call of its own (Revolve), would build it with a graph
and back-propagate through it once per step; :class:`ReusedLeaves` hands those steps a leaf
instead and back-propagates the leaves' summed gradients once, as one graph over all the steps does.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import torch
from torch import Tensor


class ReusedLeaves:
    """The values one backward call's taped steps reuse, each built once with its graph and given
    to the steps as a detached leaf: each step's backward stops at the leaves and adds up their
    gradients (:meth:`accumulate`); :meth:`parameter_gradients` takes the sums through the graphs."""

    def __init__(self) -> None:
        self.built: list[Tensor] = []
        self.leaves: list[Tensor] = []
        self.grads: list[Tensor | None] = []

    def leaf(self, value: Tensor) -> Tensor:
        """A leaf standing for ``value`` in the steps (``value`` itself when it has no graph)."""
        if not value.requires_grad:
            return value
        self.built.append(value)
        self.leaves.append(value.detach().requires_grad_())
        self.grads.append(None)
        return self.leaves[-1]

    def accumulate(self, grads: Sequence[Tensor | None]) -> None:
        """Add one backward call's gradients of the first ``len(grads)`` leaves (``None``: zero)."""
        for i, g in enumerate(grads):
            if g is not None:
                self.grads[i] = g if self.grads[i] is None else self.grads[i] + g

    def parameter_gradients(self, params: Sequence[Tensor]) -> list[Tensor | None]:
        """The gradients of ``params`` through the built values, from the leaves' summed gradients."""
        pairs = [(value, g) for value, g in zip(self.built, self.grads) if g is not None]
        if not pairs or not params:
            return [None] * len(params)
        found = torch.autograd.grad([v for v, _ in pairs], params, [g for _, g in pairs], allow_unused=True)
        return list(found)


class PassReuse:
    """What one pass's steps in one grad mode reuse, by key (e.g. a step size), built on first use;
    as leaves of ``leaves`` where :meth:`start` gives it some."""

    def __init__(self) -> None:
        self.values: dict[Hashable, Tensor] = {}
        self.leaves: ReusedLeaves | None = None

    def start(self, leaves: ReusedLeaves | None = None) -> None:
        """Forget every value (a new pass); hand the next ones out as leaves of ``leaves``."""
        self.values.clear()
        self.leaves = leaves

    def get(self, key: Hashable, build: Callable[[], Tensor]) -> Tensor:
        """The value of ``key``, ``build()`` on its first use in the pass."""
        if key not in self.values:
            value = build()
            self.values[key] = value if self.leaves is None else self.leaves.leaf(value)
        return self.values[key]
