"""physode.training: checkpoints, RNG capture, metrics file, shared problem parsers."""

import argparse
import json
import os
import random

import numpy as np
import pytest
import torch

from physode.errors import InputError
from physode.training import (
    MetricsWriter,
    load_checkpoint,
    non_finite_fields,
    problem_subparsers,
    read_metrics,
    restore_training_state,
    rng_state,
    save_checkpoint,
    set_rng_state,
    training_state,
    write_json,
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


def test_every_single_bit_flip_is_refused(tmp_path):
    """Flip every bit of a small checkpoint, one at a time: none loads (no altered values get through)."""
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"epoch": 3, "w": torch.arange(4.0)})
    intact = path.read_bytes()
    bits = range(8 * len(intact))  # about 13,000
    loaded = []
    with open(path, "r+b") as handle:
        for bit in bits:
            byte = intact[bit // 8]
            os.pwrite(handle.fileno(), bytes([byte ^ (1 << (bit % 8))]), bit // 8)
            try:
                load_checkpoint(path)
                loaded.append(bit)
            except InputError as err:
                assert "\n" not in str(err)
            os.pwrite(handle.fileno(), bytes([byte]), bit // 8)
    assert loaded == [], f"{len(loaded)} of {len(bits)} single-bit flips loaded"
    path.write_bytes(intact)
    assert load_checkpoint(path)["epoch"] == 3


def test_format_1_checkpoint_loads_with_a_warning(tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"epoch": 2, "w": torch.ones(3)}, path)  # what physode wrote before the hash
    with pytest.warns(UserWarning, match="no content hash"):
        state = load_checkpoint(path, required=("epoch",))
    assert state["epoch"] == 2 and torch.equal(state["w"], torch.ones(3))


@pytest.mark.parametrize("version", [b"3", b"0"])
def test_other_format_versions_are_refused(tmp_path, version):
    """A well-formed header of another version (hash valid) is refused as such, not as corrupt."""
    import hashlib
    import io

    buffer = io.BytesIO()
    torch.save({"epoch": 1}, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(b"physode-checkpoint/" + version + payload).hexdigest()
    path = tmp_path / "c.pt"
    path.write_bytes(b"physode-checkpoint/" + version + b" sha256=" + digest.encode() + b"\n" + payload)
    with pytest.raises(InputError, match=f"format {int(version)}"):
        load_checkpoint(path)


def test_wrong_value_types_are_one_input_error(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"epoch": "3", "model": {}, "flag": True})
    assert load_checkpoint(path, required={"model": dict})["epoch"] == "3"
    for schema in ({"epoch": int}, {"flag": int}, {"model": (list, tuple)}):
        with pytest.raises(InputError, match="of type") as info:
            load_checkpoint(path, required=schema)
        assert "\n" not in str(info.value)


def test_restore_of_a_mismatched_state_is_one_input_error(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1)
    generator = torch.Generator().manual_seed(0)
    state = training_state(torch.nn.Linear(4, 2), optimizer, scheduler, generator)
    with pytest.raises(InputError, match="model state does not fit") as info:
        restore_training_state(state, model, optimizer, scheduler, generator)
    assert "\n" not in str(info.value)
    state = training_state(model, optimizer, scheduler, generator)
    state["rng"] = {"python": 5}
    with pytest.raises(InputError, match="rng state does not fit"):
        restore_training_state(state, model, optimizer, scheduler, generator)


def test_metrics_are_strict_json_with_null_for_non_finite(tmp_path):
    path = tmp_path / "m.jsonl"
    record = {"epoch": 1, "loss": float("nan"), "per_t": [1.0, float("inf"), np.float64("-inf")],
              "nested": {"ok": 2.5, "bad": float("nan")}, "n": 3}
    MetricsWriter(path).write(record)
    line = path.read_text().strip()
    assert "NaN" not in line and "Infinity" not in line

    def strict(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    back = json.loads(line, parse_constant=strict)
    assert back == {"epoch": 1, "loss": None, "per_t": [1.0, None, None], "nested": {"ok": 2.5, "bad": None}, "n": 3}
    assert non_finite_fields(record) == ["loss", "per_t.1", "per_t.2", "nested.bad"]
    assert non_finite_fields(back) == []
    write_json(tmp_path / "summary.json", {"test_nrmse": float("nan")})
    assert json.loads((tmp_path / "summary.json").read_text(), parse_constant=strict) == {"test_nrmse": None}
