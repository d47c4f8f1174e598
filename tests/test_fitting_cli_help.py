"""The fitting commands' --help shows each default once: none missing, none twice, no "None"."""

from __future__ import annotations

import argparse

import pytest

from physode.cli import build_parser


def _command(parser: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


@pytest.mark.parametrize("command", [("fit",), ("evaluate", "pde1d"), ("predict",), ("plot",), ("quickstart",)])
def test_every_default_is_shown_once(command: tuple[str, ...]) -> None:
    parser = _command(build_parser(), *command)
    text = " ".join(parser.format_help().split())
    options = [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS and a.dest != "help"]
    hidden = [a for a in options if a.default is None or a.default is False or a.default == argparse.SUPPRESS]
    shown = [a for a in options if a not in hidden]  # `is`: a default of 0 (--seed) == False, and is shown
    assert all(a.help for a in shown), [a.dest for a in shown if not a.help]  # argparse shows no default without help
    for action in shown:
        assert f"(default: {action.default})" in text, action.dest
    written = sum("(default" in a.help for a in hidden if a.help)
    assert text.count("(default") == len(shown) + written  # no option says its default twice
    assert "(default: None)" not in text and "(default: False)" not in text
