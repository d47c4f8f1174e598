"""The PDE benchmark's parts without its fits: model names, the run cache, the report of the committed
results, and one peer fit through the benchmark's plumbing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.common.cache import RunCache, reused_runs, run_name
from benchmarks.common.peers import fit_row_peer, load_split
from benchmarks.common.report import mean_std, table_header, table_row
from benchmarks.pde.fits import fit_settings, physode_fit_config, run_changes
from benchmarks.pde.models import (
    ANODEV2_PAIRS, EQUAL_TIME_MODELS, FNO_MODELS, MODELS, PEER_TIME_MODELS, PHYSODE_MODELS, model_name,
)
from benchmarks.pde.rows import ROWS
from benchmarks.pde.summary import best_physode_seconds, report, summarise
from physode.problems.fitting.fit_config import FitConfig

HERE = Path(__file__).resolve().parents[1] / "benchmarks" / "pde"


def test_physode_model_names_derive_from_family_and_variant() -> None:
    assert model_name("linear", "anodev2") == "anodev2" and model_name("fourier", "anode") == "fourier-anode"
    assert all(model_name(*PHYSODE_MODELS[name]) == name for name in PHYSODE_MODELS)
    assert ANODEV2_PAIRS == (("anode", "anodev2"), ("anode", "anodev2-latent"), ("fourier-anode", "fourier-anodev2"))
    assert all(set(row.fitted) <= set(MODELS) for row in ROWS.values())
    for row in ROWS.values():  # references everywhere, fno-time where coefficients vary, equal-time FNOs last
        assert row.fitted[-2:] == ("zero", "persistence")
        assert ("fno-time" in row.fitted) == row.time_varying
        assert all(row.fitted.index(m) > row.fitted.index(p) for m in EQUAL_TIME_MODELS if m in row.fitted
                   for p in PHYSODE_MODELS if p in row.fitted)
    for name in PHYSODE_MODELS:  # each name builds the family's config, the variant as named
        config = physode_fit_config(name, ROWS["burgers"], {"linear": 1, "fourier": 1, "polish": 0}, seed=0)
        assert isinstance(config, FitConfig) and config.model.variant == PHYSODE_MODELS[name][1]


@pytest.mark.parametrize(("row", "model", "expected"), [
    ("diffusion", "anodev2", "anodev2_seed1"),
    ("transport-piecewise", "galerkin", "galerkin_seed1_float64_polish600"),
    ("pdebench-burgers", "fourier-anode", "fourier-anode_seed1_width64_modes32"),
    ("pdebench-burgers", "fno", "fno_seed1_modes32_validated"),
    ("diffusion", "fno-ar", "fno-ar_seed1_validated"),
    ("diffusion", "persistence", "persistence_seed1"),
    ("small-data", "anodev2", "anodev2_seed1_float64_epochs240"),
    ("small-data", "fourier-anodev2", "fourier-anodev2_seed1_steps8"),
])
def test_run_names_carry_the_settings_off_their_defaults(row: str, model: str, expected: str) -> None:
    assert run_name(model, 1, run_changes(model, fit_settings(ROWS[row], model))) == expected


def test_a_fourier_ode_at_the_fnos_time_fits_by_that_budget_after_the_fnos() -> None:
    row = ROWS["fisher-kpp"]
    assert "fourier-anode@fno-time" in row.fitted
    assert all(row.fitted.index(m) > row.fitted.index(p) for m in PEER_TIME_MODELS if m in row.fitted
               for p in FNO_MODELS if p in row.fitted)
    settings = fit_settings(row, "fourier-anode@fno-time", 123.0)
    assert run_name("fourier-anode@fno-time", 0, run_changes("fourier-anode@fno-time", settings)) \
        == "fourier-anode@fno-time_seed0_budget123s"
    config = physode_fit_config("fourier-anode@fno-time", row, {"linear": 1, "fourier": 1, "polish": 0}, seed=0,
                                budget_s=123.0)
    assert config.budget_seconds == 123.0 and config.model.variant == "anode"
    assert physode_fit_config("fourier-anode", row, {"linear": 1, "fourier": 1, "polish": 0}, seed=0).budget_seconds \
        is None


def test_an_equal_time_peer_gets_the_best_physode_models_mean_time() -> None:
    runs = [{"row": "r", "model": "anode", "test_nrmse": 0.2, "fit_time_s": 10.0},
            {"row": "r", "model": "anodev2", "test_nrmse": 0.1, "fit_time_s": 30.2},
            {"row": "r", "model": "anodev2", "test_nrmse": 0.1, "fit_time_s": 40.0},
            {"row": "r", "model": "fno", "test_nrmse": 0.01, "fit_time_s": 5.0}]
    assert best_physode_seconds(runs, "r") == 35.0 and best_physode_seconds(runs, "other") is None
    name = run_name("fno@physode-time", 0, run_changes("fno@physode-time", fit_settings(ROWS["burgers"],
                                                                                        "fno@physode-time", 35.0)))
    assert name == "fno@physode-time_seed0_validated_budget35s"


def test_the_run_cache_round_trips_and_reuse_needs_the_same_epochs(tmp_path: Path) -> None:
    cache = RunCache(tmp_path)
    assert cache.get("diffusion", "fno_seed0") is None
    cache.put("diffusion", "fno_seed0", {"model": "fno", "test_nrmse": 0.125})
    assert cache.get("diffusion", "fno_seed0") == {"model": "fno", "test_nrmse": 0.125}
    earlier = tmp_path / "results.json"
    earlier.write_text(json.dumps({"epochs": {"fno": 3}, "runs": [{"row": "r", "model": "fno", "seed": 0, "x": 1}]}))
    assert reused_runs(earlier, {"fno": 3}) == {("r", "fno", 0): {"model": "fno", "seed": 0, "x": 1}}
    with pytest.raises(SystemExit, match="pass the same --epochs"):
        reused_runs(earlier, {"fno": 4})
    assert len(reused_runs(earlier, {})) == 1  # a family without epochs now (the early-stopped peers) aside


def test_a_rows_own_linear_epochs_and_note_reach_the_fit_and_the_report() -> None:
    epochs = {"linear": 60, "fourier": 30, "polish": 0}
    assert physode_fit_config("anodev2", ROWS["small-data"], epochs, seed=0).epochs == 240
    assert physode_fit_config("anodev2", ROWS["diffusion"], epochs, seed=0).epochs == 60
    results = json.loads((HERE / "results.json").read_text())
    results["rows"] = {"extrapolation": {**results["rows"]["extrapolation"], "note": ROWS["extrapolation"].note}}
    results["runs"] = [r for r in results["runs"] if r["row"] == "extrapolation"]
    results["summary"] = summarise(results)
    written = report(results, "cmd")
    assert written.rstrip().endswith(f"- extrapolation: {ROWS['extrapolation'].note}.")
    assert "zero predictor" in ROWS["extrapolation"].note


def test_report_helpers() -> None:
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(np.sqrt(2.0)))
    assert mean_std([2.0]) == (2.0, 0.0)
    assert table_header(["a", "n"], right_aligned={"n"}) == ["| a | n |", "|---|---:|"]
    assert table_row(["x", 1]) == "| x | 1 |"


def test_the_committed_results_give_the_committed_report() -> None:
    """summarise and report over the committed results.json reproduce its summary and results.md's
    tables (the Notes after them are written by hand)."""
    results = json.loads((HERE / "results.json").read_text())
    assert summarise(results) == results["summary"]
    committed = (HERE / "results.md").read_text()
    written = report(results, results["command"])  # its first lines name this machine and torch
    tables = written[written.index("| row |"):]
    assert committed[committed.index("| row |"):].startswith(tables)


def test_a_peer_on_a_row_is_scored_on_the_test_samples(tmp_path: Path) -> None:
    """The benchmark's plumbing around physode.problems.peers: the shapes of a single-field row, what
    the fit records, and no direct FNO where the scored times go past the training file's."""
    from physode.problems.pde import simulate_transport_to_file

    path = simulate_transport_to_file(tmp_path / "u.h5", 12, 16, np.linspace(0, 0.3, 4), "exponential:c0=0.5,a=1.5",
                                      "fourier", seed=0, test_fraction=0.25)
    split = load_split(path, path)
    pred, record = fit_row_peer("persistence", path, split, seed=0, modes=4)
    assert torch.equal(pred, split.test[:, :1].expand_as(split.test))
    assert record == {"params": 0, "fit_time_s": 0.0, "epochs": 0, "stopped": "not trained", "device": "cpu"}
    longer = dataclasses.replace(split, times=split.times + [0.4])
    assert fit_row_peer("fno", path, longer, seed=0, modes=4) is None
    pytest.importorskip("neuralop")
    pred, record = fit_row_peer("fno-ar", path, split, seed=0, modes=4, budget_seconds=0.2)
    assert pred.shape == split.test.shape and record["stopped"] == "budget" and record["params"] > 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_benchmark_column_is_the_fits_own_metric(tmp_path: Path, dtype: str) -> None:
    """On one shared file, the benchmark's test-nRMSE and final columns equal `physode fit`'s
    metrics.json to the bit: both come from physode.trajectories.metrics."""
    from benchmarks.pde.fits import fit_physode, score
    from physode.problems.fitting.models import ModelConfig
    from physode.problems.pde import simulate_transport_to_file

    path = simulate_transport_to_file(tmp_path / "u.h5", 12, 16, np.linspace(0, 0.3, 4), "exponential:c0=0.5,a=1.5",
                                      "fourier", seed=0, test_fraction=0.25)
    config = FitConfig(model=ModelConfig(variant="anodev2"), epochs=2, batch_size=4, polish=3, progress=False,
                       dtype=dtype)
    split = load_split(path, path)
    pred, _, _ = fit_physode(path, tmp_path / "run", split, config)
    column = score(pred, split, extrapolate=False)
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert column["test_nrmse"] == summary["test_nrmse"]
    assert column["final_nrmse"] == summary["test_final_nrmse"]
    assert 0 < column["test_nrmse"] < 10


def test_quick_rows_are_smaller_files(tmp_path: Path) -> None:
    from benchmarks.pde.rows import QUICK_SAMPLES, write_row
    from physode.trajectories import TrajectoryFile

    full, _, _ = write_row(tmp_path / "full", "diffusion")
    quick, _, info = write_row(tmp_path / "quick", "diffusion", quick=True)
    with TrajectoryFile(full) as big, TrajectoryFile(quick) as small:
        assert small.n_samples == QUICK_SAMPLES < big.n_samples and small.n_times == (big.n_times + 1) // 2
        assert np.array_equal(small.t, big.t[::2]) and np.array_equal(small[0], big[0][::2])
    assert info["nt"] == 21
