"""Hostile input, table-driven: every bad input to simulate, fit, evaluate, plot and train fails cleanly.

The rows after "# issue 31" are the failures of issue 31's hostile-input sweep that a table can
hold; the others (run directories, races, signals, full disks, damaged files) are in
tests/test_faults.py.

Each case runs ``physode.cli.main`` in-process on a shared folder of real files (a trajectory
file, a fitted run, CIFAR-10-layout batches, junk) and must give a non-zero exit code, exactly one
line on stderr, no traceback, and leave every file that was there byte-identical: the folder is
hashed before and after. A command may leave behind only an empty ``.lock`` of a run directory it
created (the lock file is the run directory's, released but kept).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from physode.cli import main
from physode.problems.cifar10.data import FOLDER, TEST_FILE, TRAIN_FILES
from physode.problems.pde import simulate_transport_to_file
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig
from physode.training import load_checkpoint, save_checkpoint
from physode.training.lock import LOCK_FILE

MARKER = "code-ran"


class _RunsCode:
    """Pickles into a call of os.system that creates MARKER in the current directory."""

    def __reduce__(self):
        return os.system, (f"touch {MARKER}",)


def _cifar_layout(root: Path, batch: object) -> Path:
    root.mkdir(parents=True)
    for name in (*TRAIN_FILES, TEST_FILE):
        (root / name).write_bytes(pickle.dumps(batch))
    return root


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real files for the commands to refuse to damage."""
    w = tmp_path_factory.mktemp("world")
    data = simulate_transport_to_file(w / "data.h5", 8, 16, np.linspace(0.0, 0.2, 5), "exponential:c0=0.5,a=1.5",
                                      initial="fourier", seed=0, test_fraction=0.25)
    fit(data, w / "run", FitConfig(model=ModelConfig(), epochs=1, batch_size=4, progress=False), device="cpu")
    (w / "junk.txt").write_text("not a checkpoint, not HDF5\n")
    (w / "existing.png").write_bytes(b"\x89PNG not really\n")
    (w / "existing.json").write_text("{}\n")
    save_checkpoint(w / "wrong-structure.pt", {"format": "physode.pde1d/1", "config": {"model": "x"}, "grid": [],
                                               "data": {}, "model": {}})
    with h5py.File(w / "array-format.h5", "w") as f:
        f.create_dataset("u", data=np.zeros((2, 3, 8), np.float32))
        f.attrs["format"] = np.array([1, 2])
    with h5py.File(w / "pdebench-beta.h5", "w") as f:
        f.create_dataset("tensor", data=np.ones((2, 3, 8), np.float32))
        f.create_dataset("x-coordinate", data=(np.arange(8) + 0.5) / 8)
        f.create_dataset("t-coordinate", data=np.arange(4) * 0.1)
        f.attrs["beta"] = "fast"
    rng = np.random.default_rng(0)
    _cifar_layout(w / "small" / FOLDER, {b"labels": [i % 10 for i in range(20)],
                                          b"data": rng.integers(0, 256, size=(20, 3072), dtype=np.uint8)})
    _cifar_layout(w / "evil" / FOLDER, {b"labels": [0], b"data": _RunsCode()})
    images = rng.integers(0, 256, size=(20, 3072), dtype=np.uint8)
    for name, labels in (("int", 7), ("nan", [0.0, float("nan")] * 10), ("bytes", b"0123456789" * 2)):
        _cifar_layout(w / f"labels-{name}" / FOLDER, {b"labels": labels, b"data": images})
    shutil.copytree(w / "run", w / "run-edited")  # a checkpoint edited, then re-hashed so it loads
    state = load_checkpoint(w / "run-edited" / "checkpoint.pt")
    save_checkpoint(w / "run-edited" / "checkpoint.pt", {**state, "epoch": -5})
    return w


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


SIM = ["simulate", "transport", "--samples", "4", "--nx", "16", "--nt", "5", "--out", "{w}/new.h5"]
FIT = ["fit", "{w}/data.h5", "--out", "{w}/new-run", "--model", "linear", "--epochs", "1", "--no-progress", "--device", "cpu"]
TRAIN = ["train", "cifar10", "--data-root", "{w}/small", "--out", "{w}/new-train", "--epochs", "1",
         "--no-progress", "--device", "cpu", "--arch", "alexnet", "--limit-train", "8", "--limit-test", "8"]
NESTED = "expr:" + "-" * 999 + "t"

CASES: dict[str, tuple[list[str], str]] = {
    # simulate
    "simulate zero samples": ([*SIM, "--samples", "0"], "--samples: expected an integer >= 1"),
    "simulate non-integer samples": ([*SIM, "--samples", "1e9"], "--samples: expected an integer"),
    "simulate too many samples": ([*SIM, "--samples", "1000000000"], "<= 100000000"),
    "simulate beyond memory": ([*SIM, "--samples", "100000000", "--nx", "4096", "--nt", "1001"], "of memory"),
    "simulate negative nx": ([*SIM, "--nx", "-5"], "--nx"),
    "simulate one time": ([*SIM, "--nt", "1"], "--nt: expected an integer >= 2"),
    "simulate NaN t-final": ([*SIM, "--t-final", "nan"], "--t-final: expected a finite number"),
    "simulate infinite t-final": ([*SIM, "--t-final", "inf"], "--t-final"),
    "simulate zero length": ([*SIM, "--length", "0"], "--length"),
    "simulate negative seed": ([*SIM, "--seed", "-1"], "--seed: expected an integer >= 0"),
    "simulate 65-bit seed": ([*SIM, "--seed", str(2**64)], "--seed"),
    "simulate test fraction 1.5": ([*SIM, "--test-fraction", "1.5"], "--test-fraction"),
    "simulate unresolved formula": ([*SIM, "--velocity", "expr:5*sin(1e5*t)"], "does not converge"),
    "simulate formula 999 deep": ([*SIM, "--velocity", NESTED], "more than 100 deep"),
    "simulate duplicate key": ([*SIM, "--velocity", "exponential:c0=1,c0=2"], "c0 is given twice"),
    "simulate code in a formula": ([*SIM, "--velocity", "expr:__import__('os').system('touch x')"],
                                   "call functions by name"),
    "simulate unknown velocity": ([*SIM, "--velocity", "bogus:c0=1"], "unknown coefficient"),
    "simulate onto existing data": ([*SIM, "--out", "{w}/data.h5"], "already exists; pass --overwrite"),
    "simulate onto a directory": ([*SIM, "--out", "{w}/run"], "is a directory"),
    "simulate under a file": ([*SIM, "--out", "{w}/junk.txt/x.h5"], "is a file, not a directory"),
    "simulate negative nu": (["simulate", "burgers", "--samples", "2", "--nx", "16", "--nu", "-1",
                              "--out", "{w}/b.h5"], "nu must be positive"),
    "simulate zero dt": ([*SIM[:1], "burgers", *SIM[2:], "--dt", "0"], "--dt"),
    "simulate infinite beta": ([*SIM[:1], "advection", *SIM[2:], "--beta", "inf"], "--beta"),
    # fit
    "fit missing data": (["fit", "{w}/missing.h5", *FIT[2:]], "missing.h5"),
    "fit text file as data": (["fit", "{w}/junk.txt", *FIT[2:]], "not an HDF5 file"),
    "fit array-valued format": (["fit", "{w}/array-format.h5", *FIT[2:]], "array-format.h5"),
    "fit PDEBench beta not a number": (["fit", "{w}/pdebench-beta.h5", *FIT[2:]], "beta"),
    "fit NaN lr": ([*FIT, "--lr", "nan"], "--lr: expected a finite number > 0 and <= 10"),
    "fit lr 1e30": ([*FIT, "--lr", "1e30"], "--lr"),
    "fit zero lr": ([*FIT, "--lr", "0"], "--lr"),
    "fit 1e11 steps per interval": ([*FIT, "--steps-per-interval", "1e11"], "--steps-per-interval"),
    "fit steps over the cap": ([*FIT, "--steps-per-interval", "100000"], "<= 10000"),
    "fit negative seed": ([*FIT, "--seed", "-1"], "--seed"),
    "fit zero batch": ([*FIT, "--batch-size", "0"], "--batch-size"),
    "fit curriculum 1": ([*FIT, "--curriculum", "1"], "--curriculum"),
    "fit run dir is the data": ([*FIT[:2], "--out", "{w}/data.h5", *FIT[4:]], "is a file"),
    "fit into an existing run": ([*FIT[:2], "--out", "{w}/run", *FIT[4:]], "already holds a run; pass --resume"),
    "fit resume with other options": ([*FIT[:2], "--out", "{w}/run", *FIT[4:], "--epochs", "7", "--resume"],
                                      "epochs=1 (now 7)"),
    "fit unknown method": ([*FIT, "--method", "leapfrog"], "unknown method"),
    "fit unknown variant": ([*FIT, "--variant", "resnet"], "invalid choice"),
    "fit zero modes": ([*FIT, "--modes", "0"], "--modes"),
    # evaluate
    "evaluate onto its data": (["evaluate", "pde1d", "{w}/run", "--data", "{w}/data.h5", "--out", "{w}/data.h5"],
                               "also an input"),
    "evaluate onto its checkpoint": (["evaluate", "pde1d", "{w}/run", "--out", "{w}/run/checkpoint.pt",
                                      "--overwrite"], "also an input"),
    "evaluate onto an existing file": (["evaluate", "pde1d", "{w}/run", "--out", "{w}/existing.json"],
                                       "already exists"),
    "evaluate onto a directory": (["evaluate", "pde1d", "{w}/run", "--out", "{w}"], "is a directory"),
    "evaluate a text checkpoint": (["evaluate", "pde1d", "{w}/junk.txt"], "not a physode checkpoint"),
    "evaluate a wrong structure": (["evaluate", "pde1d", "{w}/wrong-structure.pt"], "grid of type list"),
    "evaluate a missing run": (["evaluate", "pde1d", "{w}/nowhere"], "does not exist"),
    "evaluate zero batch": (["evaluate", "pde1d", "{w}/run", "--batch-size", "0"], "--batch-size"),
    "evaluate cifar10 text checkpoint": (["evaluate", "cifar10", "--checkpoint", "{w}/junk.txt", "--data-root",
                                         "{w}/small"], "not a physode checkpoint"),
    # plot
    "plot onto its data": (["plot", "{w}/run", "--out", "{w}/data.h5", "--overwrite"], "also an input"),
    "plot onto an existing file": (["plot", "{w}/run", "--out", "{w}/existing.png"], "already exists"),
    "plot a sample out of range": (["plot", "{w}/run", "--out", "{w}/p.png", "--sample", "99"], "out of range"),
    "plot zero panels": (["plot", "{w}/run", "--out", "{w}/p.png", "--panels", "0"], "--panels"),
    "plot-kernel onto an existing file": (["plot-kernel", "cifar10", "--arch", "alexnet", "--out",
                                           "{w}/existing.png"], "already exists"),
    "plot-kernel 1e8 times": (["plot-kernel", "cifar10", "--arch", "alexnet", "--times", "100000000", "--out",
                               "{w}/k.png"], "--times"),
    "plot-kernel text checkpoint": (["plot-kernel", "cifar10", "--checkpoint", "{w}/junk.txt", "--out",
                                     "{w}/k.png"], "not a physode checkpoint"),
    "plot-kernel onto its checkpoint": (["plot-kernel", "cifar10", "--checkpoint", "{w}/run/checkpoint.pt",
                                         "--out", "{w}/run/checkpoint.pt", "--overwrite"], "also an input"),
    "plot-curves of a pde1d run": (["plot-curves", "cifar10", "{w}/run", "--out", "{w}/c.png"],
                                   "no CIFAR-10 training records"),
    "plot-curves of an HDF5 file": (["plot-curves", "cifar10", "{w}/data.h5", "--out", "{w}/c.png"],
                                    "not a JSON-lines metrics file"),
    "plot-curves onto its input": (["plot-curves", "cifar10", "{w}/run", "--out", "{w}/run/metrics.jsonl",
                                    "--overwrite"], "also an input"),
    "evaluate under a file": (["evaluate", "pde1d", "{w}/run", "--out", "{w}/junk.txt/e.json"], "is a file"),
    "plot under a file": (["plot", "{w}/run", "--out", "{w}/junk.txt/p.png"], "is a file"),
    "plot onto a directory": (["plot", "{w}/run", "--out", "{w}/run"], "is a directory"),
    "plot-kernel under a file": (["plot-kernel", "cifar10", "--arch", "alexnet", "--out", "{w}/junk.txt/k.png"],
                                 "is a file"),
    "plot-curves under a file": (["plot-curves", "cifar10", "{w}/run", "--out", "{w}/junk.txt/c.png"],
                                 "is a file"),
    # train
    "train NaN lr": ([*TRAIN, "--lr", "nan"], "--lr"),
    "train infinite lr": ([*TRAIN, "--lr", "inf"], "--lr"),
    "train lr 1e30": ([*TRAIN, "--lr", "1e30"], "--lr"),
    "train NaN gamma": ([*TRAIN, "--gamma", "nan"], "--gamma"),
    "train negative momentum": ([*TRAIN, "--momentum", "-1"], "--momentum"),
    "train negative weight decay": ([*TRAIN, "--weight-decay", "-1"], "--weight-decay"),
    "train negative seed": ([*TRAIN, "--seed", "-1"], "--seed"),
    "train 65-bit seed": ([*TRAIN, "--seed", str(2**64)], "--seed"),
    "train zero epochs": ([*TRAIN, "--epochs", "0"], "--epochs"),
    "train zero milestone": ([*TRAIN, "--milestones", "0"], "--milestones"),
    "train unknown arch": ([*TRAIN, "--arch", "vgg"], "vgg"),
    "train wrong-size batches": (TRAIN, "expected (10000, 3072)"),
    "train doctored batches": ([*TRAIN[:3], "{w}/evil", *TRAIN[4:]], "names posix.system"),
    "train run dir is a file": ([*TRAIN[:5], "{w}/junk.txt", *TRAIN[6:]], "is a file"),
    "train into a pde1d run": ([*TRAIN[:5], "{w}/run", *TRAIN[6:], "--resume"], "not CIFAR-10"),
    # issue 31
    "simulate burgers dt 1e-300": ([*SIM[:1], "burgers", *SIM[2:], "--dt", "1e-300"], "more than 1e+07"),
    "simulate burgers dt 1e-17": ([*SIM[:1], "burgers", *SIM[2:], "--dt", "1e-17"], "raise --dt"),
    "simulate burgers t-final 1e300": ([*SIM[:1], "burgers", *SIM[2:], "--t-final", "1e300"], "lower --t-final"),
    "simulate wave dt 1e-300": ([*SIM[:1], "wave", *SIM[2:], "--dt", "1e-300"], "more than 1e+07"),
    "simulate allen-cahn epsilon 1e300": ([*SIM[:1], "allen-cahn", *SIM[2:], "--epsilon", "1e300"],
                                          "lower --epsilon"),
    "simulate t-final 1e300 without numpy warnings": ([*SIM, "--t-final", "1e300"], "is NaN or infinite"),
    "simulate burgers length 1e-300 without warnings": ([*SIM[:1], "burgers", *SIM[2:], "--length", "1e-300"],
                                                        "raise --dt"),
    "simulate newline in a long name": ([*SIM[:-2], "--out", "{w}/" + "x\n" * 150 + ".h5"], "File name too long"),
    "fit a directory as data": (["fit", "{w}/run", *FIT[2:]], "is a directory"),
    "fit a device as data": (["fit", "/dev/null", *FIT[2:]], "is a character device"),
    "fit device meta": ([*FIT[:-1], "meta"], "not one physode trains on"),
    "fit device hpu": ([*FIT[:-1], "hpu"], "not one physode trains on"),
    "fit hidden channels 1000000": ([*FIT, "--model", "fourier", "--hidden-channels", "1000000"],
                                    "Adam's moments needs"),
    "fit modes 1000000": ([*FIT, "--model", "fourier", "--modes", "1000000"], "Adam's moments needs"),
    "fit blocks 1000000": ([*FIT, "--model", "fourier", "--blocks", "1000000"], "<= 1000"),
    "fit latent 1000000": ([*FIT, "--variant", "anodev2-latent", "--latent", "1000000"], "<= 1000"),
    "fit resume an edited epoch -5": ([*FIT[:2], "--out", "{w}/run-edited", *FIT[4:], "--batch-size", "4",
                                       "--resume"], "records epoch -5"),
    "train device meta": ([*TRAIN[:10], "meta", *TRAIN[11:]], "not one physode trains on"),
    "train labels an int": ([*TRAIN[:3], "{w}/labels-int", *TRAIN[4:]], "expected a list of integers"),
    "train NaN among labels": ([*TRAIN[:3], "{w}/labels-nan", *TRAIN[4:]], "labels of type float64"),
    "train bytes labels": ([*TRAIN[:3], "{w}/labels-bytes", *TRAIN[4:]], "expected a list of integers"),
    "plot-kernel 1000000 kernels": (["plot-kernel", "cifar10", "--arch", "alexnet", "--kernels", "1000000", "--out",
                                     "{w}/k.png"], "<= 50"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_fails_in_one_line_and_changes_no_file(name: str, world: Path, capsys, monkeypatch) -> None:
    argv, expected = CASES[name]
    monkeypatch.chdir(world)  # where a doctored pickle would create its marker
    before = _snapshot(world)
    code = main([arg.replace("{w}", str(world)) for arg in argv])
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, err
    assert expected in err, err
    after = _snapshot(world)
    assert {k: v for k, v in after.items() if k in before} == before
    new = {k: v for k, v in after.items() if k not in before}
    empty = hashlib.sha256(b"").hexdigest()
    assert all(Path(k).name == LOCK_FILE and v == empty for k, v in new.items()), new
    assert not (world / MARKER).exists()


def test_the_table_covers_every_command() -> None:
    commands = {argv[0] for argv, _ in CASES.values()}
    assert {"simulate", "fit", "evaluate", "plot", "plot-kernel", "plot-curves", "train"} <= commands
    assert len(CASES) >= 40
