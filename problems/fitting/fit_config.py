"""What a ``physode fit`` run is: :class:`FitConfig`, its defaults and their checks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from physode.errors import InputError
from physode.problems.fitting.loss import LOSSES
from physode.problems.fitting.models import Grid, ModelConfig, ModelFamily
from physode.training import load_checkpoint
from physode.variants import coupled_names, is_coupled

DTYPES = {"float32": torch.float32, "float64": torch.float64}  # --dtype: of the weights and the solve
# The linear model's default L-BFGS budget after Adam: POLISH loss evaluations, or POLISH_PER_PARAMETER per
# trainable parameter if that is more. On a quadratic, L-BFGS with exact line searches is conjugate
# gradients, which needs one iteration per direction it resolves (at most one per parameter), and a
# strong-Wolfe line search takes one or two evaluations. Most fits stop well before either.
POLISH, POLISH_PER_PARAMETER = 200, 2


def default_polish(parameters: int) -> int:
    """The linear model's default polish budget for a model with ``parameters`` trainable parameters."""
    return max(POLISH, POLISH_PER_PARAMETER * parameters)


@dataclass(frozen=True)
class FitConfig:
    """A fitting run (what the defaults cost on the quickstart's data: README, "Early stopping, measured").

    ``lr``: peak learning rate (None: the model family's ``default_lr``: 0.03 for the linear layer,
    3e-3 for the fourier model's network). ``rate_lr``: peak learning rate of the rates of order one
    — ANODEV2's evolution parameters, and the fourier model's linear term (None: the family's
    ``default_rate_lr``: ``lr`` for the linear layer, 0.03 for the fourier model); see
    :meth:`.models.ModelFamily.parameter_groups`. ``loss``: see :func:`trajectory_loss`.
    ``polish``: full-batch L-BFGS loss evaluations after Adam (:mod:`.polish`; None: the family's
    ``default_polish``: for the linear model :func:`default_polish` of its parameters, whose every
    iteration is one cheap pass over the training set, 0 for the fourier model).

    Early stopping (:mod:`.validation`): ``validation_fraction`` of the training samples (at least
    :data:`.samples.MIN_VALIDATION`; None: 0.1 where the file has 40 training samples or more, else 0,
    :func:`.samples.carve_validation`) are held out and scored after every epoch; Adam stops once
    ``patience`` epochs after the curriculum has reached every interval and the learning rate has decayed to
    a tenth of its peak (:data:`.schedule.ANNEALED`) bring no validation gain of ``min_gain`` (relative), the
    polish once ``polish_patience`` evaluations bring none, and each keeps its best validated weights (a fit
    that continues ``initial_weights`` scores them as epoch 0). ``validation_fraction=0``: no validation,
    every training sample trains, every epoch and the whole polish budget run (the fit before early stopping
    existed).

    ``windows``: train on windows of this many stored intervals starting from every stored state
    (an epoch: every window once; the curriculum grows the window to it), not on whole trajectories
    from u(t0); validation still scores the whole trajectory from u(t0), as the test does. 0: whole
    trajectories. None: the model family's ``default_windows`` where the variant's weights are static,
    else 0 (:func:`window_length`). Windows need dynamics that do not depend on when they start: a
    variant whose weights evolve from t0 (ANODEV2) is refused; one with time as an input is given
    each window's true times. ``budget_seconds``: cap on the training time (Adam, validation and the
    polish): the learning-rate cycle is sized to it from its timed warm-up (:class:`.schedule.BudgetCycle`),
    Adam stops when it is spent (``stopped``: ``"budget"`` in ``metrics.json``), and the polish gets what
    Adam left (its ``stop``: ``"time"`` when that ran out).

    ``pushforward``: with windows, train each window from the model's own prediction of its start state
    (PDEBench's pushforward trick): the window starts ``pushforward - 1`` stored intervals later than the
    stored state it is read from, and the model's rollout over those intervals, taken without a gradient,
    replaces the stored state there; the loss and its gradient cover the window only. Training so meets the
    states (errors included) a rollout meets, at one window's backprop. None or 1: from the stored state.

    ``initial_weights``: a run's checkpoint whose model weights the fit starts from instead of the seed's
    draw (the automatic choice's final fit continues its winning trial, :mod:`.choose`); None: the seed's.
    """

    model: ModelFamily = field(default_factory=ModelConfig)
    epochs: int = 60
    batch_size: int = 16
    lr: float | None = None
    rate_lr: float | None = None
    curriculum: float = 0.7  # fraction of all steps over which the horizon grows to every interval
    loss: str = "mse"  # "mse", or "relative": squared error / squared norm of the true state, per time
    polish: int | None = None  # L-BFGS loss evaluations after Adam (None: the model family's default)
    seed: int = 0
    checkpoint_every: int = 5  # epochs
    validation_fraction: float | None = None  # of the training samples, held out to stop on (0: none)
    patience: int = 10  # epochs without a validation gain of min_gain before Adam stops
    # L-BFGS evaluations without a validation gain of min_gain before the polish stops. L-BFGS may gain
    # little for dozens of evaluations before it gains much (transport's Galerkin fit: 10 cut it at 8.8e-2).
    polish_patience: int = 100
    min_gain: float = 0.01  # relative: a validation error this fraction below the last gain's counts as a gain
    eval_every: int = 0  # epochs between test-metric records in metrics.jsonl (0: only at the end)
    eval_batch_size: int = 256
    dtype: str = "float32"  # of the weights and the solve; float64 to check runs against each other
    cache_mb: float = 256.0  # training samples kept in memory per process; the rest is read as needed
    progress: bool = True
    windows: int | None = None  # stored intervals per training window (0: whole trajectories; None: default)
    budget_seconds: float | None = None  # cap on Adam's wall time, validation included (None: none)
    initial_weights: str | None = None  # checkpoint.pt whose model weights start the fit (None: the seed's)
    pushforward: int | None = None  # K: windows start K-1 stored intervals after the state read (None: 1)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "checkpoint_every", "eval_batch_size", "patience", "polish_patience"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.lr is None:
            object.__setattr__(self, "lr", self.model.default_lr)
        if self.rate_lr is None:
            object.__setattr__(self, "rate_lr", self.model.default_rate_lr)
        if self.polish is None:
            object.__setattr__(self, "polish", self.model.default_polish)
        if self.polish is not None and self.polish < 0:
            raise InputError(f"--polish must be >= 0 (L-BFGS loss evaluations), got {self.polish}")
        for name in ("lr", "rate_lr"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InputError(f"--{name.replace('_', '-')} must be positive, got {value}")
        if not 0.0 <= self.curriculum < 1.0:
            raise InputError(f"--curriculum must be in [0, 1) (a fraction of the steps), got {self.curriculum}")
        if self.loss not in LOSSES:
            raise InputError(f"--loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.validation_fraction is not None and not 0.0 <= self.validation_fraction < 1.0:
            raise InputError("--validation-fraction must be in [0, 1) (a fraction of the training samples; "
                             f"0: no early stopping), got {self.validation_fraction}")
        if not 0.0 <= self.min_gain < 1.0:
            raise InputError(f"--min-gain must be in [0, 1) (a relative gain), got {self.min_gain}")
        if self.eval_every < 0:
            raise InputError(f"--eval-every must be >= 0, got {self.eval_every}")
        if not (math.isfinite(self.cache_mb) and self.cache_mb >= 0):
            raise InputError(f"--cache-mb must be a size in MiB >= 0, got {self.cache_mb}")
        if self.windows is not None and self.windows < 0:
            raise InputError(f"--windows must be >= 0 (stored intervals per window; 0: whole trajectories), "
                             f"got {self.windows}")
        if self.windows and is_coupled(self.model.variant):
            raise InputError(f"--windows: variant {self.model.variant!r} evolves its weights from the first stored "
                             "time, so a window starting later would use the weights of t0; train it on whole "
                             f"trajectories (--windows 0), or use a variant with static weights (not {coupled_names()})")
        self._check_pushforward()
        if self.budget_seconds is not None and not (math.isfinite(self.budget_seconds) and self.budget_seconds > 0):
            raise InputError(f"--budget must be a positive number of seconds, got {self.budget_seconds}")
        if self.dtype not in DTYPES:
            raise InputError(f"--dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")

    def _check_pushforward(self) -> None:
        """A pushforward only where windows start from the model's own states and their dynamics do not
        depend on when they start."""
        if self.pushforward is None or self.pushforward == 1:
            return
        if self.pushforward < 1:
            raise InputError("--pushforward must be >= 1 (1: windows start from the stored state), "
                             f"got {self.pushforward}")
        if is_coupled(self.model.variant):
            raise InputError(f"--pushforward: variant {self.model.variant!r} evolves its weights from the first stored "
                             "time, so it trains on whole trajectories, which have no later start to push forward to; "
                             f"drop --pushforward, or use a variant with static weights (not {coupled_names()})")
        if window_length(self) == 0:
            raise InputError("--pushforward needs training windows (it replaces a window's start state by the model's "
                             "own prediction of it): pass --windows 1 or more, or drop --pushforward")


def pushforward_length(config: FitConfig) -> int:
    """``config``'s K of ``--pushforward K``: a training window starts K-1 stored intervals after the state it
    is read from, from the model's rollout over them (1: none rolled out, the window starts from the stored state)."""
    return config.pushforward or 1


def window_length(config: FitConfig) -> int:
    """Stored intervals per training window of ``config`` (0: whole trajectories from u(t0))."""
    if config.windows is not None:
        return config.windows
    return 0 if is_coupled(config.model.variant) else config.model.default_windows


def initial_model(config: FitConfig, grid: Grid, channels: int, fresh: bool) -> nn.Module:
    """``config``'s model with the weights a fit starts from: the seed's draw, or ``config.initial_weights``'
    where the fit is ``fresh`` (a resumed one's checkpoint holds its own), in ``config.dtype`` (float64 weights
    loaded into float32 ones would lose their last digits)."""
    model = config.model.build(grid, channels).to(DTYPES[config.dtype])
    if fresh and config.initial_weights is not None:
        model.load_state_dict(load_checkpoint(config.initial_weights, required={"model": dict})["model"])
    return model
