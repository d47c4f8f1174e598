"""physode.training: checkpoints, RNG capture, metrics file, shared problem parsers."""

import argparse
import random

import numpy as np
import pytest
import torch

from physode.errors import InputError
from physode.training import (
    MetricsWriter,
    load_checkpoint,
    problem_subparsers,
    read_metrics,
    rng_state,
    save_checkpoint,
    set_rng_state,
)


def test_checkpoint_round_trip(tmp_path):
    state = {"epoch": 3, "w": torch.arange(5.0), "rng": rng_state(), "milestones": (1, 2)}
    save_checkpoint(tmp_path / "c.pt", state)
    back = load_checkpoint(tmp_path / "c.pt", required=("epoch", "w"))
    assert back["epoch"] == 3 and torch.equal(back["w"], state["w"]) and back["milestones"] == (1, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary left behind


@pytest.mark.parametrize("damage", ["truncate", "garbage", "not_a_dict", "missing_key", "absent"])
def test_bad_checkpoint_is_one_input_error(tmp_path, damage):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"epoch": 1, "w": torch.zeros(1000)})
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:700])
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    elif damage == "not_a_dict":
        save_checkpoint(path, [torch.zeros(1)])
    elif damage == "absent":
        path.unlink()
    with pytest.raises(InputError) as info:
        load_checkpoint(path, required=("epoch", "model") if damage == "missing_key" else ())
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_rng_state_restores_every_generator():
    state = rng_state()
    first = (random.random(), np.random.rand(), np.random.randn(), torch.rand(3))
    set_rng_state(state)
    again = (random.random(), np.random.rand(), np.random.randn(), torch.rand(3))
    assert first[:3] == again[:3] and torch.equal(first[3], again[3])


def test_metrics_writer_resume_keeps_only_checkpointed_records(tmp_path):
    path = tmp_path / "m.jsonl"
    writer = MetricsWriter(path)
    for epoch in (1, 2, 3):
        writer.write({"epoch": epoch, "loss": 1.0 / epoch})
    with open(path, "a") as handle:
        handle.write('{"epoch": 4, "lo')  # killed mid-line
    assert [r["epoch"] for r in read_metrics(path)] == [1, 2, 3]
    MetricsWriter(path, keep_through=2).write({"epoch": 3, "loss": 0.5})
    assert read_metrics(path) == [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}, {"epoch": 3, "loss": 0.5}]
    MetricsWriter(path)  # a fresh run starts an empty file
    assert read_metrics(path) == []


def test_problem_subparsers_are_shared_between_modules():
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(dest="command")
    for problem in ("first", "second"):  # as two independent modules would
        problem_subparsers(subparsers, "train", help="train").add_parser(problem).set_defaults(which=problem)
    assert parser.parse_args(["train", "second"]).which == "second"
    assert parser.parse_args(["train", "first"]).problem == "first"
