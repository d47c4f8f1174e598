"""What the automatic model choice (:mod:`.choose`) picks from and how long the winner fits: the candidates, the
record of a candidate's trial, the ranking of trials and the final fit's size (no I/O: :mod:`.choose` runs them)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from physode.problems.fitting.fit_config import FitConfig, default_polish
from physode.problems.fitting.models import FourierModelConfig, ModelConfig, ModelFamily


MODES = 16  # the Fourier-ODE's modes where the grid has them (the PDE benchmark's rows)
BUDGET_MARGIN = 0.9  # of the time left for the final fit: the test evaluation and the epoch's overshoot
# Trials' validation errors within this fraction of the lowest tie; a tie goes to the earlier candidate.
TIE = 0.05
# A Fourier candidate's trial steps through this many stored training values (samples x times x channels x
# points), in 3 to 15 epochs. 3-epoch trials of the two Fourier candidates often fell within TIE of each other
# (0.8% on benchmarks/yourdata's KS file, 1.4% on Swift-Hohenberg), so the tie chose, not the data; 15 epochs of
# those files (156,000 training values an epoch, about 30 s a trial on one CPU thread) separate them by 1.2-1.6x,
# and on Swift-Hohenberg pick the model whose fit is 3-6x better (benchmarks/yourdata/notes.md). A large file
# (a 2-D field) keeps 3 epochs, so that the trials leave most of the budget to the winner.
TRIAL_VALUES = 2_400_000
FOURIER_TRIAL_EPOCHS = (3, 15)
# The Fourier candidates' final fit: at most this many epochs (within the budget). Longer one-cycle schedules
# spend longer at the peak learning rate, where a model trained on one-interval windows drifts to weights whose
# rollouts fail: on the Swift-Hohenberg file 190 epochs validated at 0.26-0.29 where 60 reached 0.04-0.19
# (benchmarks/yourdata/notes.md).
FOURIER_EPOCHS = 60
# A Fourier candidate's final fit continues its trial's weights at this fraction of the peak learning rates: a
# cycle back to the full rate undid what the trial had learnt (two of three Swift-Hohenberg seeds kept their
# trial's weights after 60 more epochs). Measured with the 15-epoch trials (benchmarks/yourdata/notes.md): test
# nRMSE 0.45-0.62x on Swift-Hohenberg's three seeds, 0.70x on KS, 1.15x on KdV's two, against the full rates.
CONTINUED_LR = 0.3


@dataclass(frozen=True)
class Candidate:
    """One model the choice may pick: its family config and training settings. ``trial_epochs``: the
    short fit it is ranked by; ``max_epochs``: the most its final fit runs whatever the budget; ``continued_lr``:
    the final fit's peak learning rates as a fraction of ``lr`` and ``rate_lr`` where it continues the trial's
    weights."""

    name: str
    why: str
    model: ModelFamily
    lr: float
    rate_lr: float
    polish: int | None  # None: the family's default
    trial_epochs: int
    max_epochs: int
    continued_lr: float

    def config(self, base: FitConfig, epochs: int) -> FitConfig:
        """``base`` (the user's seed, batch size, validation, dtype ...) with this model and its settings."""
        return dataclasses.replace(base, model=self.model, epochs=epochs, lr=self.lr, rate_lr=self.rate_lr,
                                   polish=self.polish)

    def continued(self, config: FitConfig, weights: str) -> FitConfig:
        """``config``, this candidate's final fit, starting from its trial's ``weights`` (a checkpoint's path) at
        ``continued_lr`` of its peak learning rates."""
        return dataclasses.replace(config, initial_weights=weights, lr=config.lr * self.continued_lr,
                                   rate_lr=None if config.rate_lr is None else config.rate_lr * self.continued_lr)


def candidates(n_x: int, training_values: int) -> tuple[Candidate, ...]:
    """The candidates for a grid of ``n_x`` points (the last axis) and a training split of ``training_values``
    stored values, in the order ties go (:func:`ranked_first`): the linear layers (cheapest), then the Fourier
    network whose linear term covers every mode exactly, then the one whose RK4 steps cap its linear term's modes.
    Learning rates: the PDE benchmark's (the linear weights 0.01 and their rates 0.1; the network 3e-3, its linear
    term 3e-2). The Fourier candidates' trials are :func:`fourier_trial_epochs` long: an epoch of their window
    training steps through every stored interval of every sample, and 4 candidates' trials must leave most of the
    default budget to the winner's fit."""
    fourier = FourierModelConfig(variant="anode", modes=min(MODES, n_x // 2), linear=True)
    stiff = dataclasses.replace(fourier, method="ifrk4", linear_modes=None)  # every mode of the grid, exactly
    trial = fourier_trial_epochs(training_values)
    return (
        Candidate("linear-anode", "one linear layer, constant coefficients", ModelConfig(variant="anode"),
                  0.01, 0.1, None, trial_epochs=20, max_epochs=200, continued_lr=1.0),
        Candidate("linear-anodev2", "one linear layer, time-varying coefficients", ModelConfig(variant="anodev2"),
                  0.01, 0.1, None, trial_epochs=20, max_epochs=200, continued_lr=1.0),
        Candidate("fourier-if", "a Fourier network with a linear term on every mode propagated exactly "
                  "(integrating-factor RK4), nonlinear autonomous dynamics with stiff linear parts", stiff,
                  3e-3, 3e-2, 0, trial_epochs=trial, max_epochs=FOURIER_EPOCHS, continued_lr=CONTINUED_LR),
        Candidate("fourier-anode", "a Fourier network with a linear term, nonlinear autonomous dynamics", fourier,
                  3e-3, 3e-2, 0, trial_epochs=trial, max_epochs=FOURIER_EPOCHS, continued_lr=CONTINUED_LR),
    )


def fourier_trial_epochs(training_values: int) -> int:
    """A Fourier candidate's trial epochs for a training split of ``training_values`` stored values: about
    :data:`TRIAL_VALUES` values' worth, within :data:`FOURIER_TRIAL_EPOCHS`. Set by the file alone, so the
    choice does not depend on the machine's speed."""
    fewest, most = FOURIER_TRIAL_EPOCHS
    return max(fewest, min(most, math.ceil(TRIAL_VALUES / max(1, training_values))))


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
