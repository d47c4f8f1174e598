"""``u(t0) -> u(t0), u(t1), ...`` on a periodic 2-D grid: :class:`~physode.models.FourierODE` with the
field :class:`~physode.nn.fourier2d.FourierField2d` (the same config, weight groups and variants)."""

from __future__ import annotations

from physode.models.fourier_ode import FourierODE
from physode.nn.fourier2d import FourierField2d


class FourierODE2d(FourierODE):
    """A Fourier-operator ODE of ``channels`` fields ``(batch, C, Ny, Nx)``, predicting
    ``(batch, len(times), C, Ny, Nx)``; arguments as :class:`FourierODE`'s."""

    field_type = FourierField2d
