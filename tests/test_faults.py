"""One test per finding of the hostile-input review (issue 14), through the real commands and files.

The table of bad inputs is tests/test_hostile.py; these tests check what a table cannot: that the
right output does get written, that a second process is refused while the first runs, that
training stops on divergence, that tracebacks appear only when asked for, that streamed files
equal in-memory ones, and that resume notices regenerated data.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from physode.cli import main
from physode.errors import InputError, TrainingDiverged
from physode.trajectories import TrajectoryFile, write_trajectories
from physode.problems.cifar10.data import FOLDER, TEST_FILE, TRAIN_FILES, load_cifar10
from physode.problems.cifar10.train import TrainConfig, train
from physode.problems.pde import cli as pde_cli
from physode.problems.pde import simulate_transport, simulate_transport_to_file
from physode.problems.pde.coefficients import coefficient_from_spec
from physode.training import CHECKPOINT, RunLock

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
FIT = ["--epochs", "1", "--batch-size", "4", "--no-progress", "--device", "cpu"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_transport_to_file(tmp_path_factory.mktemp("data") / "v.h5", 8, 16, np.linspace(0.0, 0.2, 5),
                                      "exponential:c0=0.5,a=1.5", seed=0, test_fraction=0.25)


def _one_line_error(capsys: pytest.CaptureFixture, code: int, expected: str) -> str:
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and expected in err, err
    return err


# 1. Data loss: outputs never replace inputs, and replace other files only with --overwrite.
def test_outputs_replace_nothing_unasked_and_never_an_input(data: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["fit", str(data), "--out", str(run), *FIT]) == 0
    before = data.read_bytes()
    _one_line_error(capsys, main(["evaluate", "pde1d", str(run), "--data", str(data), "--out", str(data),
                                  "--overwrite"]), "also an input")
    assert data.read_bytes() == before
    assert main(["evaluate", "pde1d", str(run)]) == 0 and (run / "evaluation.json").is_file()
    _one_line_error(capsys, main(["evaluate", "pde1d", str(run)]), "already exists; pass --overwrite")
    assert main(["evaluate", "pde1d", str(run), "--overwrite"]) == 0
    figure = tmp_path / "figure.png"
    figure.write_bytes(b"old")
    _one_line_error(capsys, main(["plot", str(run), "--out", str(figure)]), "already exists")
    assert figure.read_bytes() == b"old"
    assert main(["plot", str(run), "--out", str(figure), "--overwrite"]) == 0
    assert figure.read_bytes().startswith(b"\x89PNG")


# 2. Code execution: CIFAR-10 batches are read with the restricted unpickler.
class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_doctored_cifar10_batch_runs_no_code(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    root = tmp_path / FOLDER
    root.mkdir()
    for name in (*TRAIN_FILES, TEST_FILE):
        (root / name).write_bytes(pickle.dumps({b"data": _RunsCode(marker), b"labels": [0]}))
    with pytest.raises(InputError, match="names posix.system"):
        load_cifar10(tmp_path)
    assert not marker.exists()


# 3. Two runs in one run directory: the second is refused at once, naming the first.
def test_second_run_on_a_held_run_directory_is_refused(data: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    with RunLock(run, command="the first fit"):
        _one_line_error(capsys, main(["fit", str(data), "--out", str(run), *FIT]),
                        f"in use by pid {os.getpid()}")
        assert not (run / CHECKPOINT).exists()
    assert main(["fit", str(data), "--out", str(run), *FIT]) == 0
    with RunLock(run, command="a resumed fit"):  # evaluate writes into the run directory: refused too
        _one_line_error(capsys, main(["evaluate", "pde1d", str(run)]), "(`a resumed fit`")


def test_concurrent_fit_processes_and_a_killed_holder(data: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    argv = [sys.executable, "-m", "physode.cli", "fit", str(data), "--out", str(run), "--epochs", "100000",
            "--batch-size", "4", "--checkpoint-every", "1", "--eval-every", "0", "--no-progress", "--device", "cpu"]
    first = subprocess.Popen(argv, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (run / CHECKPOINT).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (run / CHECKPOINT).exists(), "the first fit never saved a checkpoint"
        second = subprocess.run([*argv, "--resume"], env=ENV, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
        assert f"in use by pid {first.pid}" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    with RunLock(run):  # the kernel released the killed holder's lock: --resume is not blocked
        pass


# 4. Divergence and NaN.
def test_exploding_fit_stops_with_a_clear_message(data: Path, tmp_path: Path, capsys) -> None:
    code = main(["fit", str(data), "--out", str(tmp_path / "run"), *FIT, "--lr", "10", "--method", "euler"])
    _one_line_error(capsys, code, "training diverged: the loss is")


def test_nan_metric_is_null_in_strict_json_and_a_nonzero_exit(tmp_path: Path, capsys) -> None:
    zeros = write_trajectories(tmp_path / "zeros.h5", np.zeros((8, 4, 16)), np.linspace(0, 0.3, 4),
                               np.arange(16) / 16, equation="u = 0", test_mask=np.arange(8) < 2)
    run = tmp_path / "run"
    _one_line_error(capsys, main(["fit", str(zeros), "--out", str(run), *FIT]), "test_nrmse")
    summary = json.loads((run / "metrics.json").read_text(), parse_constant=pytest.fail)  # no NaN token
    assert summary["test_nrmse"] is None
    _one_line_error(capsys, main(["evaluate", "pde1d", str(run)]), "NaN or infinite")
    json.loads((run / "evaluation.json").read_text(), parse_constant=pytest.fail)


def test_cifar10_training_stops_on_a_non_finite_loss(cifar10_root: Path, tmp_path: Path) -> None:
    config = TrainConfig(arch="alexnet", epochs=2, batch_size=32, lr=1e30, limit_train=256, limit_test=64,
                         progress=False)
    with pytest.raises(TrainingDiverged, match="mean training loss of epoch 1 is nan"):
        train(config, cifar10_root, tmp_path / "run", device="cpu")
    assert not (tmp_path / "run" / CHECKPOINT).exists()


# 5. One-line errors everywhere; --debug and PHYSODE_DEBUG show the traceback.
def test_os_errors_are_one_line_unless_debugging(tmp_path: Path, capsys, monkeypatch) -> None:
    # A name longer than the file system allows: an OSError for root and users alike.
    argv = ["simulate", "transport", "--samples", "2", "--nx", "16", "--out", str(tmp_path / ("x" * 300 + ".h5"))]
    _one_line_error(capsys, main(argv), "File name too long; choose a shorter name")
    with pytest.raises(OSError):
        main(["--debug", *argv])
    monkeypatch.setenv("PHYSODE_DEBUG", "1")
    with pytest.raises(OSError):
        main(argv)


# 6. Bounded resources.
def test_simulate_streams_blocks_equal_to_one_in_memory_simulation(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(pde_cli, "BLOCK_BYTES", 3 * 5 * 16 * 8)  # 3 samples a block: 4 blocks for 10 samples
    out = tmp_path / "streamed.h5"
    assert main(["simulate", "transport", "--samples", "10", "--nx", "16", "--nt", "5", "--seed", "4",
                 "--velocity", "expr:0.5+sin(3*t)", "--out", str(out)]) == 0
    whole = simulate_transport(10, 16, np.linspace(0, 1, 5), "expr:0.5+sin(3*t)", seed=4)
    with TrajectoryFile(out) as f:
        np.testing.assert_array_equal(f[:], whole.u.astype(np.float32))
        settings = json.loads(f.attrs["generator"])
        assert settings["n_samples"] == 10 and settings["initial"] == "fourier" and settings["seed"] == 4


@pytest.mark.slow
def test_simulate_peak_memory_does_not_grow_with_samples(tmp_path: Path) -> None:
    """Benchmark-sized (see benchmarks/physics/README.md): 2x the samples, < 20% more peak memory."""
    peaks = []
    for samples in (1000, 2000):
        script = ("import resource, sys; from physode.cli import main; code = main(sys.argv[1:]); "
                  "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")
        done = subprocess.run([sys.executable, "-c", script, "simulate", "transport", "--samples", str(samples),
                               "--nx", "1024", "--nt", "101", "--out", str(tmp_path / f"{samples}.h5")],
                              env=ENV, capture_output=True, text=True, check=True)
        peaks.append(int(done.stdout.split()[-1]))
    assert peaks[1] < 1.2 * peaks[0], peaks


# 7. Silent inaccuracy: a formula the quadrature cannot resolve is an error.
def test_unresolvable_formula_is_an_error_and_a_smooth_one_is_exact() -> None:
    with pytest.raises(InputError, match="does not converge"):
        coefficient_from_spec("expr:5*sin(1e5*t)").C(np.linspace(0, 1, 21))
    t = np.linspace(0, 1, 21)
    np.testing.assert_allclose(coefficient_from_spec("expr:5*sin(100*t)").C(t), 5 * (1 - np.cos(100 * t)) / 100,
                               rtol=0, atol=1e-12)


# 8. Smaller findings.
def test_duplicate_keys_in_a_coefficient_spec_are_an_error() -> None:
    with pytest.raises(InputError, match="a is given twice"):
        coefficient_from_spec("exponential:c0=0.5,a=1.5,a=2")


def test_resume_refuses_regenerated_data_of_the_same_shape(tmp_path: Path, capsys) -> None:
    path, run = tmp_path / "v.h5", tmp_path / "run"
    make = ["simulate", "transport", "--samples", "8", "--nx", "16", "--nt", "5", "--out", str(path)]
    assert main([*make, "--seed", "0"]) == 0
    assert main(["fit", str(path), "--out", str(run), *FIT, "--epochs", "2", "--checkpoint-every", "1"]) == 0
    assert main([*make, "--seed", "1", "--overwrite"]) == 0
    _one_line_error(capsys, main(["fit", str(path), "--out", str(run), *FIT, "--epochs", "2",
                                  "--checkpoint-every", "1", "--resume"]), "data.fingerprint")
