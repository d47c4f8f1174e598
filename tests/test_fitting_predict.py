"""A fitted run as a Python object (``physode.load``) and as trajectory files (``physode predict``)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray

import physode
from physode.cli import main
from physode.errors import InputError
from physode.problems.fitting.evaluate import evaluate_run, load_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import FourierModelConfig, ModelConfig
from physode.problems.fitting.predict import FittedModel
from physode.problems.pde import simulate_transport_to_file, simulate_wave
from physode.training import CHECKPOINT, load_checkpoint, save_checkpoint
from physode.trajectories import TrajectoryFile, rollout_errors, write, write_trajectories

TIMES = np.linspace(0.0, 0.3, 7)


def _config(model: object, **changes: object) -> FitConfig:
    return FitConfig(model=model, **{"epochs": 2, "batch_size": 8, "lr": 0.05, "polish": 0, "progress": False,
                                     **changes})


@pytest.fixture(scope="module")
def transport(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A fitted ANODEV2 run (its weights evolve from t0: the clock matters) and its data file."""
    root = tmp_path_factory.mktemp("predict")
    data = simulate_transport_to_file(root / "transport.h5", 24, 16, TIMES, "exponential:c0=0.5,a=1.5", seed=0,
                                      test_fraction=0.25)
    fit(data, root / "run", _config(ModelConfig(variant="anodev2")), device="cpu")
    return root / "run", data


@pytest.mark.parametrize("model", [ModelConfig(variant="anodev2"), FourierModelConfig(variant="anodev2", blocks=1,
                                                                                       width=4, modes=4)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_load_predicts_new_states_as_the_run_evaluates_them(tmp_path: Path, model: object, dtype: str) -> None:
    data = simulate_transport_to_file(tmp_path / "fit.h5", 16, 16, TIMES, "exponential:c0=0.5,a=1.5", seed=0)
    fit(data, tmp_path / "run", _config(model, dtype=dtype), device="cpu")
    new = simulate_transport_to_file(tmp_path / "new.h5", 12, 16, TIMES, "exponential:c0=0.5,a=1.5", seed=7,
                                     test_fraction=0.5)  # initial states the fit never saw
    evaluation = evaluate_run(tmp_path / "run", new, device="cpu", out=tmp_path / "eval.json")
    fitted = physode.load(tmp_path / "run")
    assert isinstance(fitted, torch.nn.Module) and fitted.t0 == 0.0
    with TrajectoryFile(new) as file:
        true = file[file.test]
    predicted = fitted.predict(true[:, 0])  # numpy in, the fitted times by default
    own = load_run(tmp_path / "run").model(torch.from_numpy(true[:, 0]).to(predicted.dtype), TIMES.tolist())
    torch.testing.assert_close(predicted, own.detach(), rtol=0, atol=0)
    errors = rollout_errors(predicted, torch.from_numpy(true).to(predicted.dtype))
    assert errors.nrmse_predicted == pytest.approx(evaluation["nrmse_predicted"], rel=1e-6)
    assert errors.final_nrmse == pytest.approx(evaluation["final_nrmse"], rel=1e-6)


def test_times_start_at_t0_or_later_and_may_go_beyond_the_fit(transport: tuple[Path, Path]) -> None:
    run, data = transport
    fitted = physode.load(run)
    with TrajectoryFile(data) as file:
        u0 = torch.from_numpy(file[file.test][:, 0])
    full = fitted.predict(u0, TIMES)
    torch.testing.assert_close(full[:, 0], u0, rtol=0, atol=0)  # at t0: the given state
    # From a later time on, the same states: the solve still starts at t0 (ANODEV2's weights evolve from there).
    torch.testing.assert_close(fitted.predict(u0, TIMES[3:]), full[:, 3:], rtol=1e-6, atol=1e-7)
    # A wide gap is stepped as finely as the fit: the end of the span as one output equals the full solve.
    torch.testing.assert_close(fitted.predict(u0, [TIMES[-1]])[:, 0], full[:, -1], rtol=1e-6, atol=1e-7)
    beyond = fitted.predict(u0, [0.0, 0.6])
    assert beyond.shape == (len(u0), 2, 16) and torch.isfinite(beyond).all()
    with pytest.raises(InputError, match="before t0"):
        fitted.predict(u0, [-0.1, 0.2])
    with pytest.raises(InputError, match="increasing"):
        fitted.predict(u0, [0.2, 0.1])
    with pytest.raises(InputError, match=r"takes \(batch, x\) = \(batch, 16\)"):
        fitted.predict(u0[0], TIMES)
    # forward is the same map with gradients
    u0 = u0.clone().requires_grad_()
    fitted(u0, TIMES).square().sum().backward()
    assert u0.grad is not None and torch.isfinite(u0.grad).all()


def test_a_run_without_recorded_times_takes_them_from_its_data_file(transport: tuple[Path, Path],
                                                                   tmp_path: Path) -> None:
    run, _ = transport
    state = load_checkpoint(run / CHECKPOINT)
    del state["grid"]["t"]  # as runs before the checkpoint recorded them
    save_checkpoint(tmp_path / CHECKPOINT, state)
    assert physode.load(tmp_path / CHECKPOINT).times == physode.load(run).times == TIMES.tolist()


def test_predict_writes_a_trajectory_file_xarray_opens(transport: tuple[Path, Path], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    run, data = transport
    out = tmp_path / "prediction.h5"
    assert main(["predict", str(run), "--initial", str(data), "--out", str(out), "--samples", "test",
                 "--times", "0:0.6:13", "--device", "cpu"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    with TrajectoryFile(data) as file:
        u0, n_test = file[file.test][:, 0], len(file.test)
    expected = physode.load(run).predict(u0, np.linspace(0.0, 0.6, 13)).numpy()
    with xarray.open_dataset(out, engine="h5netcdf") as predicted:
        assert predicted["u"].dims == ("sample", "t", "x")
        np.testing.assert_array_equal(predicted["t"], np.linspace(0.0, 0.6, 13))
        np.testing.assert_array_equal(predicted["u"], expected)
        assert predicted["split"].values.all() and predicted.sizes["sample"] == n_test  # test samples stay test
    with TrajectoryFile(out) as written:  # and physode reads it back
        np.testing.assert_array_equal(written[:], expected)

    assert main(["predict", str(run), "--initial", str(data), "--out", str(out), "--samples", "0,2:4"]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert main(["predict", str(run), "--initial", str(data), "--out", str(out), "--samples", "0,2:4",
                 "--overwrite"]) == 0
    with TrajectoryFile(out) as written, TrajectoryFile(data) as file:
        assert written.n_samples == 3 and written.t.tolist() == TIMES.tolist()  # default: the fitted times
        np.testing.assert_array_equal(written[:][:, 0], file[[0, 2, 3]][:, 0])


@pytest.mark.parametrize(("argv", "message"), [
    (["--times", "0,0.2,0.1"], "times must be finite and increasing"),
    (["--times", "soon"], "expected times such as"),
    (["--samples", "99"], "outside 0 .. 23"),
    (["--samples", "some"], "give all, train, test"),
    (["--times=-1,0.2"], "before t0"),
])
def test_predict_refuses_bad_input_in_one_line(transport: tuple[Path, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture, argv: list[str], message: str) -> None:
    run, data = transport
    out = tmp_path / "p.h5"
    assert main(["predict", str(run), "--initial", str(data), "--out", str(out), *argv]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not out.exists()


def test_predict_refuses_initial_states_at_another_time_or_grid(transport: tuple[Path, Path], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    run, data = transport
    with TrajectoryFile(data) as file:
        later = write_trajectories(tmp_path / "later.h5", file[:4], file.t + 0.1, file.x, equation="transport")
    coarse = simulate_transport_to_file(tmp_path / "coarse.h5", 4, 8, TIMES, "constant:c0=1")
    for initial, message in ((later, "starts at t = 0.1 but the run was fit from t0 = 0"), (coarse, "same grid"),
                             (data, "also an input")):
        out = data if initial is data else tmp_path / "p.h5"
        assert main(["predict", str(run), "--initial", str(initial), "--out", str(out), "--overwrite"]) == 2
        assert message in capsys.readouterr().err


def test_a_system_of_fields_predicts_with_its_channel_axis(tmp_path: Path) -> None:
    path = write(tmp_path / "wave.h5", simulate_wave(12, 16, TIMES, "constant:c0=1"), seed=0, test_fraction=0.25)
    fit(path, tmp_path / "run", _config(ModelConfig(variant="anode")), device="cpu")
    out = tmp_path / "p.h5"
    assert main(["predict", str(tmp_path / "run"), "--initial", str(path), "--out", str(out)]) == 0
    with xarray.open_dataset(out, engine="h5netcdf") as predicted, TrajectoryFile(path) as file:
        assert predicted["u"].dims == ("sample", "t", "channel", "x")
        assert list(predicted["channel"].values) == ["u", "u_t"]
        np.testing.assert_array_equal(predicted["u"], physode.load(tmp_path / "run").predict(file[:][:, 0]))


def test_a_prediction_that_is_not_finite_writes_nothing(transport: tuple[Path, Path], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    run, data = transport
    monkeypatch.setattr(FittedModel, "forward", lambda self, u0, times: torch.full((len(u0), len(times), 16), np.inf))
    out = tmp_path / "p.h5"
    assert main(["predict", str(run), "--initial", str(data), "--out", str(out)]) == 2
    assert "prediction from sample 0 onwards is not finite" in capsys.readouterr().err and not out.exists()


def test_the_readme_s_fitted_model_example_runs_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    example = re.search(r"<!-- use-a-fitted-model -->\n```python\n(.*?)```", readme, re.S).group(1)
    command = re.search(r"^physode (predict .*?)\s+#", readme, re.M).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    data = simulate_transport_to_file("data/transport.h5", 16, 16, TIMES, "exponential:c0=0.5,a=1.5", seed=0)
    fit(data, "runs/anodev2", _config(ModelConfig(variant="anodev2")), device="cpu")
    assert main(shlex.split(command)) == 0
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)
    assert scope["u"].shape == (len(scope["u0"]), 41, 16) and torch.isfinite(scope["u"]).all()
    assert scope["predicted"]["u"].dims == ("sample", "t", "x")
    assert next(iter(scope["loader"])).u.shape[1:] == (2, 16)
    scope["predicted"].close()


def test_evaluate_takes_the_run_as_RUN_or_as_cifar10_s_checkpoint_option(transport: tuple[Path, Path],
                                                                          tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    run, _ = transport
    for i, how in enumerate(([str(run)], ["--checkpoint", str(run / CHECKPOINT)])):
        assert main(["evaluate", "pde1d", *how, "--out", str(tmp_path / f"{i}.json")]) == 0
    assert (tmp_path / "0.json").read_text() == (tmp_path / "1.json").read_text()
    capsys.readouterr()
    for how in ([], [str(run), "--checkpoint", str(run / CHECKPOINT)]):
        assert main(["evaluate", "pde1d", *how, "--out", str(tmp_path / "2.json")]) == 2
        assert "give the run to evaluate once" in capsys.readouterr().err
