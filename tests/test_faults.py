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
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from physode.cli import main
from physode.errors import InputError, RunError, TrainingDiverged, os_error_message
from physode.io import atomic_path
from physode.trajectories import TrajectoryFile, write_trajectories
from physode.problems.cifar10.data import FOLDER, TEST_FILE, TRAIN_FILES, load_cifar10
from physode.problems.cifar10.train import TrainConfig, train
from physode.problems.pde import runners as pde_runners
from physode.problems.pde import simulate_transport, simulate_transport_to_file
from physode.problems.pde.coefficients import coefficient_from_spec
from physode.training import CHECKPOINT, RunLock, save_checkpoint

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
FIT = ["--model", "linear", "--epochs", "1", "--batch-size", "4", "--no-progress", "--device", "cpu"]


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
    argv = [sys.executable, "-m", "physode.cli", "fit", str(data), "--out", str(run), "--model", "linear", "--epochs", "100000",
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
    monkeypatch.setattr(pde_runners, "BLOCK_BYTES", 3 * 5 * 16 * 8)  # 3 samples a block: 4 blocks for 10 samples
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


# 9. Issue 31's hostile-input sweep: what a table row cannot hold (rows: tests/test_hostile.py).
def _one_line_process(done: subprocess.CompletedProcess, expected: str, code: int = 2) -> None:
    assert done.returncode == code and done.stderr.count("\n") == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and expected in done.stderr, done.stderr


def _physode(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "physode.cli", *argv], env=ENV, capture_output=True, text=True,
                          timeout=timeout)


def test_a_planted_lock_link_is_refused_and_its_target_kept(data: Path, tmp_path: Path, capsys) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("the user's notes\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").symlink_to(notes)
    _one_line_error(capsys, main(["fit", str(data), "--out", str(run), *FIT]), "is a symbolic link")
    assert notes.read_text() == "the user's notes\n"
    # evaluate writes into a fitted run directory under its lock: a link there empties nothing either.
    fitted, copy = tmp_path / "fitted", tmp_path / "copy.h5"
    assert main(["fit", str(data), "--out", str(fitted), *FIT]) == 0
    copy.write_bytes(data.read_bytes())
    (fitted / ".lock").unlink()
    (fitted / ".lock").symlink_to(copy)
    _one_line_error(capsys, main(["evaluate", "pde1d", str(fitted)]), "is a symbolic link")
    assert copy.read_bytes() == data.read_bytes()


def test_a_directory_of_the_users_metrics_is_no_run_to_replace(data: Path, tmp_path: Path, capsys) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "metrics.jsonl").write_text('{"mine": 1}\n')
    _one_line_error(capsys, main(["fit", str(data), "--out", str(mine), *FIT]), "holds metrics.jsonl but no run")
    assert (mine / "metrics.jsonl").read_text() == '{"mine": 1}\n' and not (mine / CHECKPOINT).exists()
    # A trainer names every file it writes (fit: metrics.json too).
    (mine / "metrics.jsonl").unlink()
    (mine / "metrics.json").write_text("{}\n")
    with pytest.raises(InputError, match="holds metrics.json but no run"):
        RunLock(mine, outputs=("metrics.jsonl", "metrics.json")).acquire()
    # A run killed before its first checkpoint left its lock file: running it again is allowed.
    killed = tmp_path / "killed"
    with RunLock(killed):
        (killed / "metrics.jsonl").write_text("")
    with RunLock(killed, outputs=("metrics.jsonl",)):
        pass


def test_a_file_appearing_while_written_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with pytest.raises(RunError, match="created by another process"):
        with atomic_path(out, replace=False) as tmp:
            tmp.write_text("mine")
            out.write_text("theirs")  # another writer finished first
    assert out.read_text() == "theirs" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with atomic_path(out) as tmp:  # replacing is what --overwrite asks for
        tmp.write_text("mine")
    assert out.read_text() == "mine"


def test_two_simulates_to_one_new_out_keep_one_file_and_refuse_the_other(tmp_path: Path) -> None:
    out = tmp_path / "new.h5"
    argv = [sys.executable, "-m", "physode.cli", "simulate", "transport", "--samples", "2000", "--nx", "256",
            "--out", str(out)]
    runs = [subprocess.Popen([*argv, "--seed", str(seed)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for seed in (1, 2)]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    winner = next(seed for seed, (code, _, _) in zip((1, 2), results) if code == 0)
    loser_err = next(err for code, _, err in results if code == 2)
    assert loser_err.count("\n") == 1 and ("already exists" in loser_err or "another process" in loser_err)
    with TrajectoryFile(out) as f:
        assert json.loads(f.attrs["generator"])["seed"] == winner


def _special_files(tmp_path: Path) -> list[Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    if os.geteuid() != 0:
        return [fifo]
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    return [fifo, device]


def test_overwrite_never_replaces_a_device_or_fifo(tmp_path: Path, capsys) -> None:
    for special in _special_files(tmp_path):
        kind = os.stat(special).st_mode
        _one_line_error(capsys, main(["simulate", "transport", "--samples", "2", "--nx", "16", "--out", str(special),
                                      "--overwrite"]), "not a regular file")
        assert os.stat(special).st_mode == kind


def test_special_files_as_inputs_are_named_and_never_block(data: Path, tmp_path: Path, capsys) -> None:
    for special in _special_files(tmp_path):
        _one_line_error(capsys, main(["fit", str(special), "--out", str(tmp_path / "run"), *FIT]),
                        "not a regular file")
    # A FIFO for metrics.jsonl would block the resume's read forever.
    run = tmp_path / "run"
    assert main(["fit", str(data), "--out", str(run), *FIT, "--epochs", "2", "--checkpoint-every", "1"]) == 0
    (run / "metrics.jsonl").unlink()
    os.mkfifo(run / "metrics.jsonl")
    done = _physode("fit", str(data), "--out", str(run), *FIT, "--epochs", "2", "--checkpoint-every", "1", "--resume",
                    timeout=60)
    _one_line_process(done, "is a FIFO")


def test_a_locked_data_file_is_named_locked(data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "d.h5"
    copy.write_bytes(data.read_bytes())
    holder = subprocess.Popen([sys.executable, "-c", "import sys, h5py; f = h5py.File(sys.argv[1], 'a'); "
                               "print('open', flush=True); sys.stdin.read()", str(copy)],
                              env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "open\n"
        with pytest.raises(InputError, match="is locked by a process writing it"):
            TrajectoryFile(copy)
    finally:
        holder.communicate("", timeout=60)


def test_damaged_hdf5_metadata_is_one_error_not_a_traceback(tmp_path: Path) -> None:
    """Flip every 17th byte of the metadata region (the sweep found 36 tracebacks in 784 flips of such a
    file: RuntimeError, OSError, TypeError from h5py). Each flip is read in a forked child: on some
    flips HDF5 itself crashes or loops, which no Python code can catch; those are counted, not failed."""
    source = write_trajectories(tmp_path / "src.h5", np.ones((4, 3, 8)), np.linspace(0, 1, 3), np.arange(8) / 8,
                                equation="u", test_mask=np.arange(4) < 1)
    raw = source.read_bytes()
    outcomes = []
    for position in range(0, 1200, 17):
        flipped = bytearray(raw)
        flipped[position] ^= 0xFF
        path = tmp_path / "flipped.h5"
        path.write_bytes(bytes(flipped))
        outcomes.append((position, _read_in_child(path)))
    tracebacks = [(position, outcome) for position, outcome in outcomes if outcome.startswith("traceback")]
    assert not tracebacks, tracebacks
    assert sum(outcome == "error" for _, outcome in outcomes) >= 20  # the damage is seen, not ignored


def _read_in_child(path: Path) -> str:
    """"ok", "error" (an InputError), "traceback: ..." or "signal N", reading ``path`` in a forked child."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child, which must never return into pytest
        try:
            os.close(read_end)
            signal.alarm(5)
            try:
                with TrajectoryFile(path) as f:
                    f.validate()
                    f[:]
                outcome = "ok"
            except InputError:
                outcome = "error"
            except BaseException as err:  # noqa: BLE001 - what the test looks for
                outcome = f"traceback: {type(err).__name__}: {err}"
            os.write(write_end, outcome.encode()[:4000])
        finally:
            os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        outcome = pipe.read().decode()
    return f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else outcome


@pytest.mark.parametrize("env", [{"WORLD_SIZE": "abc"}, {"WORLD_SIZE": "0"}, {"WORLD_SIZE": "-3"},
                                 {"WORLD_SIZE": "2", "RANK": "5"}])
def test_a_malformed_launch_environment_is_one_line(env: dict[str, str], data: Path, tmp_path: Path, capsys,
                                                   monkeypatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _one_line_error(capsys, main(["fit", str(data), "--out", str(tmp_path / "run"), *FIT]), "environment variable")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv", [
    # 4 GB if it ran to the end (simulate checks the free disk for that first): long enough to interrupt.
    ["simulate", "transport", "--samples", "10000", "--nx", "1024", "--nt", "101"],
    ["fit", "{data}", "--model", "linear", "--epochs", "100000", "--batch-size", "4", "--no-progress", "--device", "cpu"],
], ids=["simulate", "fit"])
def test_ctrl_c_is_one_line_and_leaves_no_partial_file(argv: list[str], data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "physode.cli", *(a.replace("{data}", str(data)) for a in argv), "--out", str(out)]
    # A run started in the background of a script (``cmd &``) arrives with SIGINT ignored, and an ignored
    # signal stays ignored across exec: the command is started with Python's own, as a terminal would.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        running = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    deadline = time.monotonic() + 60
    while not any(tmp_path.rglob("*")) and time.monotonic() < deadline:  # its first write has begun
        time.sleep(0.1)
    time.sleep(1.0)
    running.send_signal(signal.SIGINT)
    _, err = running.communicate(timeout=60)
    assert running.returncode == 130 and err.count("\n") == 1 and "interrupted" in err, err
    assert not [p for p in tmp_path.rglob("*.tmp")]  # every write in flight was rolled back


def test_one_float_changed_anywhere_in_the_data_is_seen_on_resume(tmp_path: Path, capsys) -> None:
    """The fingerprint hashes every byte (issue 31: a changed float the sampled fingerprint never
    read resumed silently); test_io_outputs checks this on a 79 MiB file, here a resume sees it."""
    path, run = tmp_path / "v.h5", tmp_path / "run"
    assert main(["simulate", "transport", "--samples", "8", "--nx", "16", "--nt", "5", "--out", str(path)]) == 0
    assert main(["fit", str(path), "--out", str(run), *FIT, "--epochs", "2", "--checkpoint-every", "1"]) == 0
    with TrajectoryFile(path) as f:
        field = f[:]
    raw = bytearray(path.read_bytes())
    offset = raw.find(field[3, 2].tobytes())  # one sample's stored bytes, found in the file
    assert offset > 0
    raw[offset : offset + 4] = np.float32(field[3, 2, 0] + 1).tobytes()
    path.write_bytes(bytes(raw))
    _one_line_error(capsys, main(["fit", str(path), "--out", str(run), *FIT, "--epochs", "2", "--checkpoint-every",
                                  "1", "--resume"]), "data.fingerprint")


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    """A 2 MiB tmpfs, mounted for the test and removed after it (root only)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


@pytest.mark.parametrize("argv", [
    ["transport", "--samples", "64", "--nx", "1024", "--nt", "16"],
    ["burgers", "--samples", "32", "--nx", "256", "--nt", "64"],
    ["transport", "--samples", "64", "--nx", "1024", "--nt", "16", "--compression", "gzip"],
    ["advection", "--layout", "pdebench", "--samples", "64", "--nx", "1024", "--nt", "16"],
], ids=["transport", "burgers", "gzip", "pdebench"])
def test_a_full_disk_is_one_line_not_a_segfault(argv: list[str], small_disk: Path) -> None:
    """4 MB onto 2 MiB: HDF5 dies of a segmentation fault when its file cannot be closed, so the
    space is checked first. A subprocess, so that a segfault fails the test instead of ending it."""
    done = _physode("simulate", *argv, "--out", str(small_disk / "x.h5"))
    _one_line_process(done, f"writing {small_disk / 'x.h5'} needs up to")
    assert list(small_disk.iterdir()) == []


def test_a_full_disk_names_the_file_being_written(small_disk: Path) -> None:
    with open(small_disk / "ballast", "wb") as ballast:  # fill the disk
        with pytest.raises(OSError):
            while True:
                ballast.write(b"\0" * 2**16)
                ballast.flush()
    target = small_disk / "checkpoint.pt"
    with pytest.raises(OSError) as raised:
        save_checkpoint(target, {"weights": np.zeros(2**16)})
    assert raised.value.filename == str(target)
    assert os_error_message(raised.value).startswith(f"{target}: No space left on device; the disk is full")
    assert sorted(p.name for p in small_disk.iterdir()) == ["ballast"]
