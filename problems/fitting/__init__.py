"""Fit coupled neural ODEs to periodic trajectory files (any PDE written in the trajectory format).

Given u(t0), a model predicts u at every stored time: ``du/dt = f(u; theta(t))`` with ``f`` one of
the registered model families (built in, both on one spatial axis: a linear, translation-invariant
layer, spectral multipliers or a periodic stencil, ``--model linear``; a Fourier-operator network,
``--model fourier``), whose weights are static (ANODE, Neural ODE)
or evolve (ANODEV2). The code knows nothing about the PDE:
it reads the field, the times and the grid through :class:`physode.trajectories.TrajectoryFile`.

- :mod:`.models`: the model families (:class:`ModelFamily`, registered by name): ``linear``
  (:class:`ModelConfig`, :func:`build_model`) and ``fourier`` (:class:`FourierModelConfig`).
- :mod:`.estimates`: the learned velocity ``c_hat(t)`` (transport) or wave speed (wave).
- :mod:`.fit_config`: :class:`FitConfig`, what a fit run is (budget, learning rates, polish).
- :mod:`.fit`: :func:`fit` (deterministic, resumable, checkpoints and JSON metrics).
- :mod:`.trainer`: :class:`Trainer`, a fit's phases (set-up, Adam, polish, summary).
- :mod:`.polish`: the full-batch L-BFGS after Adam.
- :mod:`.evaluate`: :func:`evaluate_run`, scored by :mod:`physode.trajectories.metrics`.
- :mod:`.predict`: :func:`~.predict.load` (``physode.load``), a run as a module with
  ``predict(u0, times)``, and :func:`~.predict.predict_file`, its prediction as a trajectory file.
- :mod:`.plot`: :func:`plot_runs`, the Figure-2-style comparison.
- :mod:`.quickstart`: :func:`run_quickstart`, the end-to-end transport demo.

Command line: ``physode fit``, ``physode evaluate pde1d``, ``physode predict``, ``physode plot``,
``physode quickstart``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "LAYERS",
    "FitConfig",
    "FourierModelConfig",
    "FourierTrajectoryModel",
    "ModelConfig",
    "ModelFamily",
    "TrainingDiverged",
    "TrajectoryModel",
    "build_model",
    "diffusivity_estimate",
    "evaluate_model",
    "evaluate_run",
    "family_names",
    "load_run",
    "parameter_count",
    "plot_runs",
    "run_quickstart",
    "velocity_estimate",
    "wave_speed_estimate",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: the command line's parsers import this package's light modules and
    # must build without torch (physode/cli.py).
    if name in __all__:
        from physode.problems.fitting import public

        return getattr(public, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
