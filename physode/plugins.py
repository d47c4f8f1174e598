"""A user's own variants and model families: the modules named in ``PHYSODE_PLUGINS``.

Variants (:func:`physode.variants.register_variant`) and model families (subclasses of
:class:`physode.problems.fitting.models.ModelFamily`) register when their module is imported.
The command line imports the modules listed in ``PHYSODE_PLUGINS`` (comma-separated; each an
importable module name or the path of a ``.py`` file) before it builds its parser, so their
names are among ``--variant`` and ``--model``'s choices and their stored runs load again.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from physode.errors import InputError

PLUGINS_ENV = "PHYSODE_PLUGINS"


def _import_file(path: Path) -> ModuleType:
    name = path.stem
    if name in sys.modules:  # imported before: its variants and families are registered already
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"{PLUGINS_ENV}: {path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_plugins() -> list[ModuleType]:
    """Import the modules ``PHYSODE_PLUGINS`` names (each once per process)."""
    modules = []
    for entry in filter(None, (part.strip() for part in os.environ.get(PLUGINS_ENV, "").split(","))):
        # The one import by name in physode: which modules to import is the user's to say.
        try:
            if entry.endswith(".py"):
                modules.append(_import_file(Path(entry)))
            else:
                modules.append(importlib.import_module(entry))
        except (ImportError, FileNotFoundError) as err:
            raise InputError(f"{PLUGINS_ENV}: cannot import {entry!r} ({err})") from err
    return modules
