"""The names a registry offers on the command line, importable without torch.

``--variant`` and ``--model`` list the registered variants and model families, but those register
in modules that import torch, which takes seconds: too slow for ``physode --help``. A
:class:`Catalog` holds a registry's names and one-line summaries instead: the built-in ones written
out where the parser is built, and every other one (a plugin's, ``PHYSODE_PLUGINS``) added by the
registry as it registers (:meth:`Catalog.offer`). The registry offers its built-in entries too,
and a built-in entry that differs from the catalog's is an error, so the two cannot drift apart
(``tests/test_startup.py`` also checks that the catalog lists every built-in name).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

AddOptions = Callable[[argparse.ArgumentParser], None]


def _no_options(parser: argparse.ArgumentParser) -> None:
    """An entry without options of its own."""


@dataclass(frozen=True)
class Offered:
    """One registered name: its ``--help`` summary and the options it adds to the parser, if any."""

    name: str
    summary: str
    add_options: AddOptions = _no_options


class Catalog:
    """The names of one registry, in registration order (the built-in ones first)."""

    def __init__(self, kind: str, built_in: Sequence[Offered]) -> None:
        self.kind = kind
        self._built_in = {entry.name: entry for entry in built_in}
        self._entries = dict(self._built_in)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def entries(self) -> tuple[Offered, ...]:
        return tuple(self._entries.values())

    def summary(self, name: str) -> str:
        return self._entries[name].summary

    def offer(self, name: str, summary: str, add_options: AddOptions = _no_options) -> None:
        """Called by the registry for every name it registers (a built-in one keeps its entry here)."""
        built_in = self._built_in.get(name)
        if built_in is None:
            self._entries[name] = Offered(name, summary, add_options)
        elif built_in.summary != summary:
            raise RuntimeError(f"the built-in {self.kind} {name!r} registers with the summary {summary!r}, but the "
                               f"command line's catalog says {built_in.summary!r}; make them one")


VARIANTS = Catalog("variant", (
    Offered("anode", "static weights"),
    Offered("neuralode", "static, adjoint gradients, time as input"),
    Offered("anodev2", "weights evolve by spectral reaction-diffusion-advection"),
    Offered("anodev2-neural", "weights evolve by a learned q(w, t)"),
    Offered("anodev2-latent", "weights read out of a linear latent ODE (oscillations, sign changes)"),
    Offered("galerkin", "weights expanded in a basis in t (the peer)"),
))
"""The variants (:mod:`physode.variants`): the built-in six of ``physode/variants/builtin.py``."""
