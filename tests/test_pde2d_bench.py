"""The 2-D benchmark: each row fits the models its kind calls for, and the benchmark end to end on a tiny
walled file (8 x 8, 4 times, a 2 s budget per model): the peers, references and physode models are fit and
scored by the same code, the summary's verdict follows its ratio and target, the report and plots are
written, and a second run reads the cache."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.pde2d.rows import FOURIER, LINEAR, ROWS, Size
from benchmarks.pde2d.run import benchmark, notes
from benchmarks.pde2d.summary import TIME_SLACK, plot_pareto, plot_snapshots, report, summarise

TINY = Size(samples=16, nx=8, nt=4)


def test_each_row_fits_the_models_its_kind_calls_for() -> None:
    """The linear spectral models where the PDE is linear in u, the Fourier-ODE where it is not; the
    time-conditioned FNO and the 3x target where the coefficients vary in time."""
    assert set(ROWS) == {"transport2d", "wave2d", "navier-stokes2d", "diffusion-reaction2d"}
    for name in ("transport2d", "wave2d"):
        assert ROWS[name].physode == LINEAR
    for name in ("navier-stokes2d", "diffusion-reaction2d"):
        assert ROWS[name].physode == FOURIER
    for row in ROWS.values():
        assert ("fno-time" in row.peers) == row.time_varying and {"fno", "fno-ar"} <= set(row.peers)
        assert row.target == (3.0 if row.time_varying else 1.0)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_2d_benchmark_runs_end_to_end_on_a_tiny_file(tmp_path: Path) -> None:
    pytest.importorskip("neuralop")
    rows = ["diffusion-reaction2d"]
    results = benchmark(tmp_path, rows, [0], TINY, budget=2.0)
    fitted = [r["model"] for r in results["runs"]]
    assert fitted == ["fno", "fno-ar", "zero", "persistence", "fourier-anode", "fourier-anodev2", "fourier-if"]
    zero = next(r for r in results["runs"] if r["model"] == "zero")
    assert zero["test_nrmse"] == pytest.approx(1.0) and zero["params"] == 0
    for run in results["runs"]:
        assert run["device"] == "cpu" and run["seed"] == 0 and run["test_nrmse"] > 0
        if run["model"] not in ("zero", "persistence"):
            assert run["fit_time_s"] > 0 and run["epochs"] >= 1
    assert results["rows"]["diffusion-reaction2d"]["boundary_condition"].startswith("neumann")
    results.update(wall_s=1.0, quick=True, test_fraction=0.2, device="cpu", load_note="", budget_note="")
    results["summary"] = summarise(results)
    results["notes"] = notes(results, 2.0)
    for row, entry in results["summary"].items():
        if entry["physode"] is None:  # no physode fit within the FNO's time: nothing to compare at equal time
            assert math.isnan(entry["ratio"]) and not entry["met"]
        else:
            assert entry["physode_seconds"] <= TIME_SLACK * entry["fno_seconds"]
            assert entry["ratio"] == pytest.approx(entry["fno_nrmse"] / entry["physode_nrmse"])
            assert entry["physode_any_time_nrmse"] <= entry["physode_nrmse"]
        assert entry["met"] == (entry["ratio"] >= ROWS[row].target)
        assert (f"- {row}: not met." in "\n".join(results["notes"])) == (not entry["met"])
    text = report(results, "python -m benchmarks.pde2d.run")
    assert "| row | FNO best |" in text and all(f"## {row}:" in text for row in rows)
    json.dumps(results, default=float)  # results.json is written from it
    plot_pareto(results, tmp_path)
    row = rows[0]
    plot_snapshots(results, tmp_path, Path(results["files"][row]), row, tmp_path)
    assert (tmp_path / "pareto.png").stat().st_size > 0 and (tmp_path / "snapshots.png").stat().st_size > 0
    again = benchmark(tmp_path, rows, [0], TINY, budget=2.0)  # every fit cached: the same results
    assert [r["test_nrmse"] for r in again["runs"]] == [r["test_nrmse"] for r in results["runs"]]
