"""What the automatic model choice (:mod:`.choose`) picks from and how long the winner fits: the candidates, the
record of a candidate's trial, the ranking of trials and the final fit's size (no I/O: :mod:`.choose` runs them)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from physode.problems.fitting.fit_config import FitConfig, default_polish
from physode.problems.fitting.models import FourierModelConfig, ModelConfig, ModelFamily


MODES = 16  # the Fourier-ODE's modes where the grid has them (the PDE benchmark's rows)
BUDGET_MARGIN = 0.9  # of the time left for the final fit: the test evaluation and the epoch's overshoot
# Trials' validation errors within this fraction of the lowest tie; a tie goes to the earlier candidate. Short
# trials rank noisily: on the Kuramoto-Sivashinsky file of benchmarks/yourdata the two Fourier candidates' 3-epoch
# trials differ by 0.8% (the RK4 one lower), their 30-epoch fits by 1.4x (the integrating-factor one lower).
TIE = 0.05


@dataclass(frozen=True)
class Candidate:
    """One model the choice may pick: its family config and training settings. ``trial_epochs``: the
    short fit it is ranked by; ``max_epochs``: the most its final fit runs whatever the budget."""

    name: str
    why: str
    model: ModelFamily
    lr: float
    rate_lr: float
    polish: int | None  # None: the family's default
    trial_epochs: int
    max_epochs: int

    def config(self, base: FitConfig, epochs: int) -> FitConfig:
        """``base`` (the user's seed, batch size, validation, dtype ...) with this model and its settings."""
        return dataclasses.replace(base, model=self.model, epochs=epochs, lr=self.lr, rate_lr=self.rate_lr,
                                   polish=self.polish)


def candidates(n_x: int) -> tuple[Candidate, ...]:
    """The candidates for a grid of ``n_x`` points, in the order ties go (:func:`ranked_first`): the linear layers
    (cheapest), then the Fourier network whose linear term covers every mode exactly, then the one whose RK4 steps
    cap its linear term's modes. Learning rates: the PDE benchmark's (the linear
    weights 0.01 and their rates 0.1; the network 3e-3, its linear term 3e-2). The Fourier candidates' trials
    are 3 epochs: an epoch of their window training steps through every stored interval of every sample, and
    4 candidates' trials must leave most of the default budget to the winner's fit."""
    fourier = FourierModelConfig(variant="anode", modes=min(MODES, n_x // 2), linear=True)
    stiff = dataclasses.replace(fourier, method="ifrk4", linear_modes=None)  # every mode of the grid, exactly
    return (
        Candidate("linear-anode", "one linear layer, constant coefficients", ModelConfig(variant="anode"),
                  0.01, 0.1, None, trial_epochs=20, max_epochs=200),
        Candidate("linear-anodev2", "one linear layer, time-varying coefficients", ModelConfig(variant="anodev2"),
                  0.01, 0.1, None, trial_epochs=20, max_epochs=200),
        Candidate("fourier-if", "a Fourier network with a linear term on every mode propagated exactly "
                  "(integrating-factor RK4), nonlinear autonomous dynamics with stiff linear parts", stiff,
                  3e-3, 3e-2, 0, trial_epochs=3, max_epochs=2000),
        Candidate("fourier-anode", "a Fourier network with a linear term, nonlinear autonomous dynamics", fourier,
                  3e-3, 3e-2, 0, trial_epochs=3, max_epochs=2000),
    )


@dataclass(frozen=True)
class Trial:
    """A candidate's short fit: its validation nRMSE (inf if it diverged) and what it cost."""

    name: str
    validation_nrmse: float
    parameters: int
    fit_seconds: float
    epoch_seconds: float  # one Adam epoch
    polish_seconds: float  # one L-BFGS evaluation (0 without a polish)
    diverged: bool = False


def ranked_first(trials: list[Trial]) -> int:
    """The index of the winning trial: the earliest whose validation nRMSE is within :data:`TIE` of the lowest
    (the candidates are listed cheapest and most exact first)."""
    lowest = min(t.validation_nrmse for t in trials)
    return next(i for i, t in enumerate(trials) if t.validation_nrmse <= (1 + TIE) * lowest)


@dataclass(frozen=True)
class FinalFit:
    """The chosen candidate's final fit: at most ``epochs`` Adam epochs, within ``budget_s`` seconds (None:
    no time limit, for ``--epochs`` and for a fit that is its trial)."""

    epochs: int
    budget_s: float | None

    def config(self, candidate: Candidate, base: FitConfig) -> FitConfig:
        return dataclasses.replace(candidate.config(base, self.epochs), budget_seconds=self.budget_s)


def final_fit(candidate: Candidate, trial: Trial, seconds_left: float, base: FitConfig) -> FinalFit:
    """``candidate``'s final fit in ``seconds_left``: its trial where :func:`final_epochs` prices no more epochs;
    else within :data:`BUDGET_MARGIN` of the time, up to its ``max_epochs`` (the schedule sized to the time as the
    fit runs: the trials' seconds per epoch, taken at another load, would end it early or late), or up to the priced
    epochs where it has a polish (a budgeted Adam leaves the polish only the time it did not use)."""
    priced = final_epochs(candidate, trial, seconds_left, base)
    if priced == candidate.trial_epochs:
        return FinalFit(priced, None)
    polishes = candidate.config(base, 1).polish != 0
    return FinalFit(priced if polishes else candidate.max_epochs, BUDGET_MARGIN * seconds_left)


def final_epochs(candidate: Candidate, trial: Trial, seconds_left: float, base: FitConfig) -> int:
    """The epochs of ``candidate``'s final fit that ``seconds_left`` pays for after its polish (priced at
    its full budget, by the trial's seconds per evaluation); at least its trial's (then the trial is the
    fit), at most its ``max_epochs``."""
    polish = candidate.config(base, 1).polish
    polish = default_polish(trial.parameters) if polish is None else polish
    for_adam = BUDGET_MARGIN * seconds_left - polish * trial.polish_seconds
    affordable = int(for_adam / trial.epoch_seconds) if trial.epoch_seconds > 0 else candidate.max_epochs
    return min(candidate.max_epochs, max(candidate.trial_epochs, affordable))
