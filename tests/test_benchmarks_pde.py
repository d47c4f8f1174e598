"""The PDE benchmark's parts without its fits: model names, the run cache, the report of the committed
results, and the FNO peer's seeded training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.common.cache import RunCache, reused_runs, run_name
from benchmarks.common.peers import Split, fit_fno
from benchmarks.common.report import mean_std, table_header, table_row
from benchmarks.pde.fits import fit_settings, physode_fit_config, run_changes
from benchmarks.pde.models import ANODEV2_PAIRS, MODELS, PHYSODE_MODELS, model_name
from benchmarks.pde.rows import ROWS
from benchmarks.pde.summary import report, summarise
from physode.problems.fitting.fit_config import FitConfig

HERE = Path(__file__).resolve().parents[1] / "benchmarks" / "pde"


def test_physode_model_names_derive_from_family_and_variant() -> None:
    assert model_name("linear", "anodev2") == "anodev2" and model_name("fourier", "anode") == "fourier-anode"
    assert all(model_name(*PHYSODE_MODELS[name]) == name for name in PHYSODE_MODELS)
    assert ANODEV2_PAIRS == (("anode", "anodev2"), ("anode", "anodev2-latent"), ("fourier-anode", "fourier-anodev2"))
    assert all(set(row.models) <= set(MODELS) for row in ROWS.values())
    for name in PHYSODE_MODELS:  # each name builds the family's config, the variant as named
        config = physode_fit_config(name, ROWS["burgers"], {"linear": 1, "fourier": 1, "polish": 0}, seed=0)
        assert isinstance(config, FitConfig) and config.model.variant == PHYSODE_MODELS[name][1]


@pytest.mark.parametrize(("row", "model", "expected"), [
    ("diffusion", "anodev2", "anodev2_seed1"),
    ("transport-piecewise", "galerkin", "galerkin_seed1_float64_polish600"),
    ("pdebench-burgers", "fourier-anode", "fourier-anode_seed1_steps1_width64_modes32"),
    ("pdebench-burgers", "fno", "fno_seed1_modes32"),
])
def test_run_names_carry_the_settings_off_their_defaults(row: str, model: str, expected: str) -> None:
    assert run_name(model, 1, run_changes(model, fit_settings(ROWS[row], model))) == expected


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


def test_fno_training_is_seeded(tmp_path: Path) -> None:
    pytest.importorskip("neuralop")
    generator = torch.Generator().manual_seed(0)
    u = torch.randn(10, 4, 16, generator=generator)
    split = Split(u[:8], u[8:], [0.0, 0.1, 0.2, 0.3], [0.0, 0.1, 0.2, 0.3], np.linspace(0, 1, 16, endpoint=False))
    first, params, _ = fit_fno(split, epochs=1, seed=3, autoregressive=True, modes=4)
    again, _, _ = fit_fno(split, epochs=1, seed=3, autoregressive=True, modes=4)
    other, _, _ = fit_fno(split, epochs=1, seed=4, autoregressive=True, modes=4)
    assert first.shape == (2, 4, 16) and params > 0
    assert torch.equal(first, again) and not torch.equal(first, other)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_benchmark_column_is_the_fits_own_metric(tmp_path: Path, dtype: str) -> None:
    """On one shared file, the benchmark's test-nRMSE and final columns equal `physode fit`'s
    metrics.json to the bit: both come from physode.trajectories.metrics."""
    from benchmarks.common.peers import load_split
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
