"""The restricted unpickler: real CIFAR-10 batches load; doctored ones never run their code."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from physode.errors import InputError
from physode.io.safe_pickle import load_array_pickle

REPO = Path(__file__).resolve().parents[1]
CIFAR = Path(os.environ.get("PHYSODE_DATA", REPO.parent / "shared" / "data" / "cifar-10-batches-py"))


class _Payload:
    """Unpickling an instance calls ``function(*args)``: what a doctored data file would do."""

    def __init__(self, function, *args):
        self.reduced = (function, args)

    def __reduce__(self):
        return self.reduced


def _batch(extra: object) -> dict:
    """A CIFAR-10-shaped batch carrying ``extra`` beside the real keys."""
    return {b"batch_label": b"training batch 1 of 5", b"labels": [0, 1],
            b"data": np.zeros((2, 3072), np.uint8), b"filenames": [b"a.png", b"b.png"], b"x": extra}


def _attacks(marker: Path) -> dict[str, tuple[object, str]]:
    """Payloads that create ``marker`` when unpickled, with the global each names."""
    return {
        "os.system": (_Payload(os.system, f"touch '{marker}'"), ".system"),
        "builtins.open": (_Payload(open, str(marker), "w"), ".open"),
        "builtins.exec": (_Payload(exec, f"open({str(marker)!r}, 'w')"), ".exec"),
        "builtins.eval": (_Payload(eval, f"open({str(marker)!r}, 'w')"), ".eval"),
    }


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
@pytest.mark.parametrize("attack", ["os.system", "builtins.open", "builtins.exec", "builtins.eval"])
def test_doctored_batch_runs_no_code(tmp_path: Path, attack: str, protocol: int) -> None:
    marker = tmp_path / "marker"
    payload, global_name = _attacks(marker)[attack]
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(_batch(payload), protocol=protocol))
    # The payload is real: plain pickle runs it.
    pickle.loads(path.read_bytes(), encoding="bytes")
    assert marker.exists()
    marker.unlink()

    with pytest.raises(InputError) as info:
        load_array_pickle(path)
    assert not marker.exists()
    message = str(info.value)
    assert "\n" not in message and str(path) in message and global_name in message


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps(np.array([1, "a"], dtype=object), protocol=2))
    with pytest.raises(InputError, match="Python objects") as info:
        load_array_pickle(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"\x80\x02}q\x00(U\x01a", b"<html>"])
def test_malformed_pickles_are_one_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "b"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_array_pickle(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_arrays_and_plain_containers_round_trip(tmp_path: Path, protocol: int) -> None:
    value = {b"data": np.arange(12, dtype=np.uint8).reshape(3, 4), "f": np.linspace(0, 1, 5),
             "nested": [(1, 2.5, None, True), {"s": "text", "b": b"\x00\xff"}]}
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps(value, protocol=protocol))
    back = load_array_pickle(path)
    np.testing.assert_array_equal(back[b"data"], value[b"data"])
    np.testing.assert_array_equal(back["f"], value["f"])
    assert back["nested"] == value["nested"]


@pytest.mark.skipif(not (CIFAR / "data_batch_1").exists(),
                    reason=f"real CIFAR-10 not found at {CIFAR} (set PHYSODE_DATA to cifar-10-batches-py)")
@pytest.mark.parametrize("name", ["data_batch_1", "test_batch", "batches.meta"])
def test_real_cifar10_batches_load_as_with_plain_pickle(name: str) -> None:
    with open(CIFAR / name, "rb") as handle:
        expected = pickle.load(handle, encoding="bytes")
    batch = load_array_pickle(CIFAR / name)
    assert batch.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, np.ndarray):
            assert batch[key].dtype == value.dtype and np.array_equal(batch[key], value)
        else:
            assert batch[key] == value
