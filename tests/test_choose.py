"""``physode fit FILE`` without model options: the model chosen on the validation split, recorded,
reproducible with the same seed, and bypassed by any model option."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.cli import main
from physode.problems.fitting.candidates import (BUDGET_MARGIN, CONTINUED_LR, FOURIER_EPOCHS, FOURIER_TRIAL_EPOCHS,
                                                 TIE, TRIAL_VALUES, FinalFit, Trial, candidates, final_epochs,
                                                 final_fit, fourier_trial_epochs, ranked_first)
from physode.problems.fitting.choose import CHOICE, TRIAL_WEIGHTS, candidates_for
from physode.problems.fitting.evaluate import SUMMARY
from physode.problems.fitting.fit_config import FitConfig, initial_model
from physode.problems.fitting.models import FourierModelConfig, Grid
from physode.training import CHECKPOINT, load_checkpoint, save_checkpoint
from physode.problems.pde import simulate_transport_to_file
from physode.trajectories import TrajectoryFile

# 18 training samples: a quarter (5) validates. A budget the trials use up: the winner's trial is the fit, so
# two runs agree exactly whatever the machine's speed.
COMMON = ["--validation-fraction", "0.25", "--batch-size", "8", "--no-progress", "--device", "cpu"]
CHOOSE = ["--budget", "1", *COMMON]


@pytest.fixture(scope="module")
def transport_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "transport.h5"
    return simulate_transport_to_file(path, 24, 16, np.linspace(0.0, 0.2, 5), "exponential:c0=0.5,a=1.5",
                                      initial="fourier", seed=0, test_fraction=0.25)


@pytest.fixture(scope="module")
def chosen(transport_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    runs = tmp_path_factory.mktemp("runs")
    for name in ("a", "b"):
        assert main(["fit", str(transport_file), "--out", str(runs / name), *CHOOSE]) == 0
    return runs / "a", runs / "b"


def test_the_choice_is_recorded_and_reproducible_with_the_same_seed(chosen: tuple[Path, Path],
                                                                   transport_file: Path) -> None:
    first, second = (json.loads((run / CHOICE).read_text()) for run in chosen)
    with TrajectoryFile(transport_file) as data:
        pool = candidates_for(data)
    names = [c.name for c in pool]
    assert [t["name"] for t in first["trials"]] == names and first["chosen"] in names
    scores = [t["validation_nrmse"] for t in first["trials"]]
    won, tie = names.index(first["chosen"]), (1 + TIE) * min(scores)  # the lowest wins, a tie the earlier
    assert scores[won] <= tie and all(score > tie for score in scores[:won])
    assert [t["validation_nrmse"] for t in second["trials"]] == scores and second["chosen"] == first["chosen"]
    winner = next(c for c in pool if c.name == first["chosen"])
    assert first["epochs"] == winner.trial_epochs and first["epochs_from"] == "budget"  # the budget paid for no more
    summaries = [json.loads((run / SUMMARY).read_text()) for run in chosen]
    assert summaries[0]["choice"]["chosen"] == first["chosen"] and summaries[0]["epochs"] == winner.trial_epochs
    assert summaries[0]["test_nrmse"] == summaries[1]["test_nrmse"]
    assert not list(chosen[0].parent.glob(".*-trials-*"))  # the trials' scratch directories are gone


def test_epochs_fix_the_chosen_models_final_fit(transport_file: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert main(["fit", str(transport_file), "--out", str(run), *CHOOSE, "--epochs", "3"]) == 0
    assert "its final fit: 3 epochs" in capsys.readouterr().out
    assert json.loads((run / CHOICE).read_text())["epochs_from"] == "--epochs"
    assert json.loads((run / SUMMARY).read_text())["epochs"] == 3


def test_a_longer_final_fit_continues_its_trials_weights(transport_file: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    # 2 epochs: no candidate's trial length, so the final fit is more epochs from the trial's weights.
    assert main(["fit", str(transport_file), "--out", str(run), *CHOOSE, "--epochs", "2"]) == 0
    assert json.loads((run / CHOICE).read_text())["from_trial"] is True
    trial = load_checkpoint(run / TRIAL_WEIGHTS, required={"model": dict, "epoch": int})
    fitted = load_checkpoint(run / CHECKPOINT, required={"config": dict, "epoch": int})
    with TrajectoryFile(transport_file) as data:
        winner = next(c for c in candidates_for(data) if c.name == json.loads((run / CHOICE).read_text())["chosen"])
    assert trial["epoch"] == winner.trial_epochs and fitted["epoch"] == 2
    assert fitted["config"]["initial_weights"] == str(run / TRIAL_WEIGHTS)
    assert fitted["config"]["lr"] == pytest.approx(winner.lr * winner.continued_lr)  # a continued cycle's peak
    (run / CHECKPOINT).unlink()  # killed before its first checkpoint: the resume starts from the trial again
    (run / SUMMARY).unlink()
    assert main(["fit", str(transport_file), "--out", str(run), *CHOOSE, "--resume"]) == 0
    assert load_checkpoint(run / CHECKPOINT, required={"config": dict})["config"]["initial_weights"] == str(
        run / TRIAL_WEIGHTS)


def test_a_fit_starts_from_the_initial_weights_unless_it_resumes(tmp_path: Path) -> None:
    model, grid = FourierModelConfig(variant="anode", width=4, modes=3, blocks=1, linear=True), Grid((8,), (0.1,))
    torch.manual_seed(1)
    given = model.build(grid, 1)
    save_checkpoint(tmp_path / "start.pt", {"model": given.state_dict()})
    config = FitConfig(model=model, initial_weights=str(tmp_path / "start.pt"))
    torch.manual_seed(0)
    drawn = model.build(grid, 1).state_dict()
    for fresh, expected in ((True, given.state_dict()), (False, drawn)):
        torch.manual_seed(0)
        built = initial_model(config, grid, 1, fresh=fresh).state_dict()
        assert all(torch.equal(built[name], expected[name]) for name in expected)
    assert not all(torch.equal(given.state_dict()[name], drawn[name]) for name in drawn)


def test_the_choice_is_printed_and_resume_continues_it(chosen: tuple[Path, Path], transport_file: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    assert main(["fit", str(transport_file), "--out", str(chosen[0]), *CHOOSE]) == 2
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    assert main(["fit", str(transport_file), "--out", str(chosen[0]), *CHOOSE, "--resume"]) == 0
    out = capsys.readouterr().out
    assert "resuming the recorded choice: " in out and "model choice" not in out


def test_a_run_fit_with_model_options_is_not_resumed_as_a_choice(transport_file: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert main(["fit", str(transport_file), "--out", str(run), *COMMON, "--epochs", "3", "--variant", "anode"]) == 0
    assert main(["fit", str(transport_file), "--out", str(run), *CHOOSE, "--resume"]) == 2
    assert "resume it with the options it was started with" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--variant", "anode"], ["--model", "linear"], ["--lr", "0.05"], ["--layer", "stencil"]])
def test_model_options_bypass_the_choice(flags: list[str], transport_file: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert main(["fit", str(transport_file), "--out", str(run), *COMMON, "--epochs", "3", *flags]) == 0
    assert "model choice" not in capsys.readouterr().out
    assert not (run / CHOICE).exists() and "choice" not in json.loads((run / SUMMARY).read_text())
    assert json.loads((run / SUMMARY).read_text())["model"] == "linear"


@pytest.mark.parametrize("flags", [["--windows", "1"], ["--pushforward", "2"]])
def test_window_options_without_a_model_are_refused_before_any_trial(flags: list[str], transport_file: Path,
                                                                    tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    assert main(["fit", str(transport_file), "--out", str(tmp_path / "run"), *CHOOSE, *flags]) == 2
    assert "--model fourier" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_the_choice_needs_a_validation_split(transport_file: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    # 18 training samples: the default fraction holds out none.
    assert main(["fit", str(transport_file), "--out", str(tmp_path / "run"), "--no-progress", "--device", "cpu"]) == 2
    assert "--validation-fraction" in capsys.readouterr().err and not (tmp_path / "run" / CHOICE).exists()


def test_the_final_fit_gets_the_epochs_its_budget_pays_for() -> None:
    linear = candidates(16, TRIAL_VALUES)[0]
    trial = Trial(linear.name, 0.1, parameters=20, fit_seconds=1.0, epoch_seconds=0.1, polish_seconds=0.05)
    base = FitConfig()  # the linear candidate's polish: 200 evaluations, 10 s here
    assert final_epochs(linear, trial, 0.0, base) == linear.trial_epochs  # no time left: the trial's length
    assert final_epochs(linear, trial, 20.0, base) == math.floor((0.9 * 20.0 - 10.0) / 0.1)
    assert final_epochs(linear, trial, 1e6, base) == linear.max_epochs


def test_a_fourier_trial_covers_a_fixed_number_of_stored_values_within_its_epoch_range() -> None:
    fewest, most = FOURIER_TRIAL_EPOCHS
    assert fourier_trial_epochs(TRIAL_VALUES // 5) == 5  # in between: the values' worth
    assert fourier_trial_epochs(100) == most  # a small file: the most epochs
    assert fourier_trial_epochs(10**9) == fewest  # a large one (a 2-D field): the fewest
    pool = candidates(64, TRIAL_VALUES // 5)
    assert [(c.trial_epochs, c.max_epochs) for c in pool if c.name.startswith("fourier")] == [(5, FOURIER_EPOCHS)] * 2
    assert all(c.trial_epochs == 20 for c in pool if c.name.startswith("linear"))  # the linear trials are fixed
    fourier = pool[2]
    continued = fourier.continued(fourier.config(FitConfig(), 10), "trial.pt")
    assert (continued.initial_weights, continued.lr, continued.rate_lr) == (
        "trial.pt", fourier.lr * CONTINUED_LR, fourier.rate_lr * CONTINUED_LR)


def test_trials_within_the_tie_go_to_the_earlier_candidate() -> None:
    def trials(*scores: float) -> list[Trial]:
        return [Trial(f"c{i}", score, 1, 1.0, 1.0, 0.0) for i, score in enumerate(scores)]
    assert ranked_first(trials(0.2, 0.1, 0.1 * (1 + TIE / 2))) == 1  # the lowest, clear of the earlier one
    assert ranked_first(trials(0.3, 0.1 * (1 + TIE / 2), 0.1)) == 1  # within the tie of the lowest, earlier
    assert ranked_first(trials(0.3, 0.1 * (1 + 2 * TIE), 0.1)) == 2  # beyond it
    assert ranked_first(trials(math.inf, 0.1)) == 1  # a diverged trial never wins


def test_a_final_fit_without_a_polish_runs_until_the_time_left_is_spent() -> None:
    linear, fourier = candidates(16, TRIAL_VALUES)[0], candidates(16, TRIAL_VALUES)[2]
    base = FitConfig()
    trial = Trial(fourier.name, 0.1, parameters=20, fit_seconds=3.0, epoch_seconds=1.0, polish_seconds=0.0)
    # Its polish is 0: up to its epoch cap, the schedule sized to 90% of the time left as the fit runs.
    assert final_fit(fourier, trial, 100.0, base) == FinalFit(fourier.max_epochs, BUDGET_MARGIN * 100.0)
    assert final_fit(fourier, trial, 2.0, base) == FinalFit(fourier.trial_epochs, None)  # no time: the trial
    config = final_fit(fourier, trial, 100.0, base).config(fourier, base)
    assert config.budget_seconds == BUDGET_MARGIN * 100.0 and config.epochs == fourier.max_epochs
    # The linear layer's polish is priced in: its epochs stay the priced ones, the budget a guard.
    trial = Trial(linear.name, 0.1, parameters=20, fit_seconds=1.0, epoch_seconds=0.1, polish_seconds=0.05)
    priced = final_epochs(linear, trial, 20.0, base)
    assert final_fit(linear, trial, 20.0, base) == FinalFit(priced, BUDGET_MARGIN * 20.0)


def test_the_final_fits_time_is_recorded_and_a_resume_keeps_it(transport_file: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["fit", str(transport_file), "--out", str(run), "--budget", "60", *COMMON]) == 0
    choice = json.loads((run / CHOICE).read_text())
    fitted = load_checkpoint(run / CHECKPOINT, required={"config": dict})["config"]
    assert choice["epochs_from"] == "budget" and 0 < choice["fit_budget_s"] < 60 - choice["trials_s"]
    assert fitted["budget_seconds"] == choice["fit_budget_s"] and fitted["epochs"] == choice["epochs"]
    (run / SUMMARY).unlink()  # a resume repeats the recorded fit, its time included (else its config would differ)
    assert main(["fit", str(transport_file), "--out", str(run), "--budget", "60", *COMMON, "--resume"]) == 0
    assert json.loads((run / SUMMARY).read_text())["choice"]["fit_budget_s"] == choice["fit_budget_s"]
