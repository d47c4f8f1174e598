"""Memory and disk-space checks before allocating or writing."""

from __future__ import annotations

import sys

import pytest
import torch

from physode.errors import InputError
from physode.resources import available_memory, check_disk_space, check_memory, format_bytes, model_bytes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/meminfo")
def test_available_memory_is_a_plausible_size():
    available = available_memory()
    assert available is not None and 2**20 < available < 2**50


def test_check_memory_refuses_what_cannot_fit():
    check_memory(1024, "a small array", "lower --samples")
    with pytest.raises(InputError, match=r"simulate's output needs 1000.0 PB of memory but .* is available; "
                                         "lower --samples") as info:
        check_memory(10**18, "simulate's output", "lower --samples")
    assert "\n" not in str(info.value)


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 999, 1000, 6_800_000_000, 10**18)] == \
        ["0 B", "999 B", "1.0 kB", "6.8 GB", "1000.0 PB"]


def test_model_bytes_prices_a_model_without_building_it_or_drawing_random_numbers():
    before = torch.get_rng_state()
    # 10^6 x 10^6 weights would be 4 TB: on the meta device nothing is allocated.
    assert model_bytes(lambda: torch.nn.Linear(10**6, 10**6)) == (10**12 + 10**6) * 4
    assert model_bytes(lambda: torch.nn.Linear(10, 10), torch.float64) == 110 * 8
    assert model_bytes(lambda: torch.nn.BatchNorm1d(3)) == 4 * 3 * 4 + 8  # num_batches_tracked: int64
    assert torch.equal(torch.get_rng_state(), before)


def test_check_disk_space_refuses_what_cannot_fit(tmp_path):
    check_disk_space(tmp_path / "new" / "x.h5", 1024, "choose another --out")  # a folder still to be made
    with pytest.raises(InputError, match=r"writing .*x.h5 needs up to 1000.0 PB of disk space but .* is free in "
                                         r".*; choose another --out"):
        check_disk_space(tmp_path / "x.h5", 10**18, "choose another --out")
