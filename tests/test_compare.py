"""``physode compare``: the table and plots with physode's models alone and with the peers, one metric
code for all, refused outputs and bad files; and the user-style KdV solver of benchmarks/yourdata."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.common.report import code_revision
from benchmarks.yourdata.kdv import LENGTH, N_X, soliton, solve_kdv
from physode.cli import main
from physode.errors import InputError
from physode.problems.compare import run as compare_run
from physode.problems.compare.report import PARETO, PREDICTION, RESULTS, RESULTS_JSON
from physode.problems.fitting.evaluate import evaluate_run
from physode.problems.pde import simulate_transport_to_file
from physode.trajectories import TrajectoryFile, rollout_errors

PHYSODE_ONLY = ["--models", "linear-anode,linear-anodev2", "--peers", "none", "--budget", "8", "--device", "cpu"]


@pytest.fixture(scope="module")
def transport_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "transport.h5"
    return simulate_transport_to_file(path, 48, 16, np.linspace(0.0, 0.3, 6), "exponential:c0=0.5,a=1.5",
                                      initial="fourier", seed=0, test_fraction=0.25)


@pytest.fixture(scope="module")
def physode_only(transport_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "out"
    assert main(["compare", str(transport_file), "--out", str(out), *PHYSODE_ONLY]) == 0
    return out


def test_compare_writes_the_table_and_plots_with_physode_models_only(physode_only: Path) -> None:
    for name in (RESULTS, RESULTS_JSON, PARETO, PREDICTION):
        assert (physode_only / name).stat().st_size > 0
    for name in (PARETO, PREDICTION):
        assert (physode_only / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (physode_only / RESULTS).read_text()
    assert "| model | kind | params | test nRMSE | final-time nRMSE | fit seconds | epochs | device | stopped by |" in table
    entries = {e["name"]: e for e in json.loads((physode_only / RESULTS_JSON).read_text())["entries"]}
    assert set(entries) == {"linear-anode", "linear-anodev2", "zero", "persistence"}
    assert all(entries[name]["epochs"] > 0 and entries[name]["stopped"] in ("validation", "budget", "epoch cap")
               for name in ("linear-anode", "linear-anodev2"))
    assert all(f"| {name} |" in table for name in entries)


def test_every_model_is_scored_by_the_one_metric_code(physode_only: Path, transport_file: Path) -> None:
    entries = {e["name"]: e for e in json.loads((physode_only / RESULTS_JSON).read_text())["entries"]}
    with TrajectoryFile(transport_file) as data:
        test = torch.from_numpy(data[data.test])
    assert entries["zero"]["test_nrmse"] == pytest.approx(1.0)
    persistence = rollout_errors(test[:, :1].expand_as(test), test)
    assert entries["persistence"]["test_nrmse"] == pytest.approx(persistence.nrmse_predicted, rel=1e-12)
    assert entries["persistence"]["final_nrmse"] == pytest.approx(persistence.final_nrmse, rel=1e-12)
    run = physode_only / "runs" / "linear-anodev2"
    evaluated = evaluate_run(run, device="cpu", out=physode_only / "evaluation.json")  # fit's own evaluation
    assert entries["linear-anodev2"]["test_nrmse"] == pytest.approx(evaluated["nrmse_predicted"], rel=1e-6)


def test_compare_refuses_a_non_empty_output_and_replaces_it_with_overwrite(
        physode_only: Path, transport_file: Path, capsys: pytest.CaptureFixture) -> None:
    before = (physode_only / RESULTS).read_text()
    assert main(["compare", str(transport_file), "--out", str(physode_only), *PHYSODE_ONLY]) == 2
    assert "not empty; pass --overwrite" in capsys.readouterr().err and (physode_only / RESULTS).read_text() == before
    assert main(["compare", str(transport_file), "--out", str(physode_only), *PHYSODE_ONLY[:3], "none",
                 "--models", "linear-anode", "--budget", "4", "--device", "cpu", "--overwrite"]) == 0
    entries = json.loads((physode_only / RESULTS_JSON).read_text())["entries"]
    assert [e["name"] for e in entries] == ["linear-anode", "zero", "persistence"]


def test_bad_input_is_one_clear_error(transport_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    assert main(["compare", str(junk), "--out", str(tmp_path / "a"), *PHYSODE_ONLY]) == 2
    assert "not an HDF5 file" in capsys.readouterr().err and not (tmp_path / "a").exists()
    with pytest.raises(InputError, match="linear-anode, linear-anodev2, fourier-if, fourier-anode"):
        compare_run.compare(transport_file, tmp_path / "b", budget_seconds=5, models="linear-anode,lstm", peers="none")
    with pytest.raises(InputError, match="fno, fno-time, fno-ar"):
        compare_run.compare(transport_file, tmp_path / "b", budget_seconds=5, peers="fno,gpt")
    with pytest.raises(InputError, match="peers_stop 'time': choose validation or budget"):
        compare_run.compare(transport_file, tmp_path / "b", budget_seconds=5, peers_stop="time")


def test_without_the_bench_extra_compare_names_it(transport_file: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compare_run, "FNO_PACKAGE", "no_such_package_for_physode_tests")
    with pytest.raises(InputError, match=r"pip install 'physode\[bench\]', or pass --peers none"):
        compare_run.compare(transport_file, tmp_path / "c", budget_seconds=5, peers="fno")
    assert not (tmp_path / "c").exists()


def test_compare_with_the_fno_peers(transport_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("neuralop", reason="the FNO peers need the bench extra (neuraloperator)")
    out = tmp_path / "out"
    assert main(["compare", str(transport_file), "--out", str(out), "--models", "linear-anodev2", "--peers", "fno,fno-ar",
                 "--budget", "12", "--peers-stop", "budget", "--device", "cpu"]) == 0
    entries = {e["name"]: e for e in json.loads((out / RESULTS_JSON).read_text())["entries"]}
    assert set(entries) == {"linear-anodev2", "fno", "fno-ar", "zero", "persistence"}
    for name in ("fno", "fno-ar"):
        assert entries[name]["kind"] == "peer" and entries[name]["epochs"] > 0 and entries[name]["parameters"] > 0
        assert entries[name]["stopped"] in ("validation", "budget", "epoch cap")
        assert entries[name]["fit_seconds"] < 6 + 5  # its share of the budget, and the epoch it was in
    assert "| fno |" in (out / RESULTS).read_text()


def test_the_kdv_solver_matches_the_exact_soliton() -> None:
    x = LENGTH * np.arange(N_X) / N_X
    times = np.linspace(0.0, 2.0, 11)
    for k in (0.7, 0.8):
        u = solve_kdv(soliton(x, k, 6.0)[None], times)[0]
        exact = np.stack([soliton(x, k, 6.0, t) for t in times])
        assert np.abs(u - exact).max() < 1e-4 * exact.max()  # the soliton moves 4 k^2 t: 4 to 5 widths here
        assert np.abs(exact[-1] - exact[0]).max() > 0.5 * exact.max()


def test_yourdata_report_names_the_code_and_load_that_made_each_section() -> None:
    pytest.importorskip("pde", reason="benchmarks/yourdata's run.py makes py-pde files: pip install 'physode[bench]'")
    from benchmarks.yourdata.run import report  # imports py-pde

    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                          text=True)
    revision = code_revision()
    assert revision.startswith(head.stdout.strip()) if head.returncode == 0 else revision.startswith("unknown")
    entries = [{"name": "fno", "kind": "peer", "test_nrmse": 0.2, "fit_seconds": 9.0, "stopped": "validation"}]
    result = {"name": "kdv", "label": "KdV", "budget_s": 60.0, "compare_wall_s": 70.0, "fit_wall_s": 30.0,
              "table": "\n" * 4 + "| table |", "entries": entries, "choice": {"chosen": "fourier-if"},
              "fit": {"test_nrmse": 0.1, "test_final_nrmse": 0.2, "params": 5, "fit_time_s": 20.0, "epochs_run": 3}}
    old = report([result])
    assert "commit `" not in old and "**met**" in old and "| table |" in old
    assert "commit `abc1234`, load average 1.2 then 2.0" in report([{**result, "commit": "abc1234", "load": [1.2, 2.0]}])
