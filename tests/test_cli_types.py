"""Command-line number checks: finite, in range, one-line errors."""

from __future__ import annotations

import argparse

import pytest

from physode.cli_types import (
    SEED_MAX,
    ArgumentParser,
    float_in,
    fraction,
    int_in,
    nonneg_float,
    positive_float,
    positive_int,
    seed,
)


@pytest.mark.parametrize("parse, text, value", [
    (positive_float, "0.1", 0.1), (positive_float, "1e-30", 1e-30), (nonneg_float, "0", 0.0),
    (nonneg_float, "-0.0", 0.0), (fraction, "0", 0.0), (fraction, "0.99", 0.99), (seed, "0", 0),
    (seed, str(SEED_MAX), SEED_MAX), (positive_int(10), "10", 10), (int_in(-3, 3), "-3", -3),
    (float_in(1.0, 2.0), "2", 2.0),
])
def test_accepted(parse, text, value):
    assert parse(text) == value


@pytest.mark.parametrize("parse, text", [
    (positive_float, "nan"), (positive_float, "NaN"), (positive_float, "inf"), (positive_float, "-inf"),
    (positive_float, "1e999"), (positive_float, "0"), (positive_float, "-1"), (positive_float, "abc"),
    (positive_float, ""), (nonneg_float, "-1e-300"), (nonneg_float, "nan"), (fraction, "1"),
    (fraction, "-0.1"), (fraction, "nan"), (seed, "-1"), (seed, str(SEED_MAX + 1)), (seed, str(2**64)),
    (seed, "1.5"), (seed, "1e3"), (seed, "nan"), (positive_int(10), "0"), (positive_int(10), "11"),
    (positive_int(10), "1e11"), (int_in(0), "-5"),
])
def test_refused(parse, text):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse(text)
    assert "expected" in str(info.value) and "\n" not in str(info.value)


def test_parser_reports_a_bad_option_as_one_line(capsys):
    parser = ArgumentParser(prog="physode")
    commands = parser.add_subparsers(dest="command")
    train = commands.add_parser("train")
    train.add_argument("--lr", type=positive_float, default=0.1)
    train.add_argument("--seed", type=seed, default=0)
    assert parser.parse_args(["train", "--lr", "0.5", "--seed", "7"]).lr == 0.5
    for argv, expected in ((["train", "--lr", "nan"], "argument --lr: expected a finite number > 0, got 'nan'"),
                           (["train", "--seed", "-1"], "argument --seed: expected an integer >= 0 and <= "),
                           (["train", "--bogus"], "unrecognized arguments: --bogus")):
        with pytest.raises(SystemExit) as info:
            parser.parse_args(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(("physode train: error: ", "physode: error: "))
        assert expected in err
