"""Memory checks before allocation."""

from __future__ import annotations

import sys

import pytest

from physode.errors import InputError
from physode.resources import available_memory, check_memory, format_bytes


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
