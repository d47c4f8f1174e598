"""`physode --help`, every sub-command's `--help` and `physode --version` import no torch; the
torch-free names and defaults the parsers show are the registries' and configs' own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from physode.catalog import VARIANTS
from physode.cli import build_parser
from physode.problems.cifar10 import config as cifar10_config
from physode.problems.cifar10.models import ARCHS, CONFIGURATIONS
from physode.problems.cifar10.train import TrainConfig
from physode.problems.fitting import cli as fitting_cli
from physode.problems.fitting import commands, fit_config, fit_options, quickstart, samples
from physode.problems.fitting.family_options import FAMILIES, FOURIER_DEFAULTS, GALERKIN_BASES, LINEAR_DEFAULTS
from physode.problems.fitting.fit_parser import FIT_DEFAULTS, LOSSES, MODEL_DEFAULTS, VALIDATION
from physode.problems.fitting.loss import LOSSES as TRAINING_LOSSES
from physode.problems.fitting.models import FourierModelConfig, ModelConfig, family_named, family_names
from physode.evolution.galerkin import BASES
from physode.variants import get_variant, variant_names

HEAVY = ("torch", "scipy", "matplotlib", "xarray", "h5py", "torchvision")

# Run in a fresh interpreter: this test process has imported torch long ago.
PROBE = textwrap.dedent("""
    import argparse, contextlib, io, json, sys
    from physode.cli import build_parser, main

    def leaves(parser, path=()):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield path
        for sub in subs:
            for name, child in sub.choices.items():
                yield from leaves(child, (*path, name))

    commands = [()] + list(leaves(build_parser()))
    helped = []
    for command in commands:
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
            main([*command, "--help"])
        helped.append([" ".join(command), "usage:" in out.getvalue()])
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
        main(["--version"])
    print(json.dumps({"helped": helped, "version": out.getvalue(),
                      "heavy": sorted(m for m in %r if m in sys.modules)}))
""") % (HEAVY,)


def test_help_of_every_command_and_the_version_import_no_torch() -> None:
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(run.stdout.splitlines()[-1])
    commands = [command for command, _ in result["helped"]]
    assert {"fit", "simulate", "predict", "plot", "quickstart", "evaluate pde1d", "train cifar10"} <= set(commands)
    assert all(shown for _, shown in result["helped"]), result["helped"]
    assert result["version"].startswith("physode ")
    assert result["heavy"] == []


def test_the_catalogs_list_exactly_the_built_in_registrations() -> None:
    """In a fresh interpreter (no plugins): the names the parser offers before the registries are
    imported are the names they register, in order, with the same summaries."""
    probe = textwrap.dedent("""
        import json
        from physode.catalog import VARIANTS
        from physode.problems.fitting.family_options import FAMILIES
        before = [VARIANTS.names(), FAMILIES.names()]
        from physode.problems.fitting.models import family_names
        from physode.variants import variant_names
        print(json.dumps([before, [variant_names(), family_names()]]))
    """)
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    before, registered = json.loads(run.stdout)
    assert before == registered
    assert all(VARIANTS.summary(name) == get_variant(name).summary for name in variant_names())
    assert all(FAMILIES.summary(name) == family_named(name).summary for name in family_names())


def test_a_built_in_registration_that_differs_from_the_catalog_is_refused() -> None:
    with pytest.raises(RuntimeError, match="the built-in variant 'anode' registers with the summary 'other'"):
        VARIANTS.offer("anode", "other")


def test_the_defaults_the_parsers_show_are_the_configs_own() -> None:
    fit, linear, fourier = fit_config.FitConfig(), ModelConfig(), FourierModelConfig()
    assert {name: getattr(fit, name) for name in FIT_DEFAULTS} == FIT_DEFAULTS
    assert {name: getattr(linear, name) for name in MODEL_DEFAULTS} == MODEL_DEFAULTS
    assert family_names()[0] == linear.family
    assert LINEAR_DEFAULTS == {"layer": linear.layer, "width": linear.width, "latent": linear.latent,
                               "basis": linear.basis, "solver": linear.solver, "lr": ModelConfig.default_lr,
                               "polish": fit_config.POLISH, "polish_per_parameter": fit_config.POLISH_PER_PARAMETER}
    assert FOURIER_DEFAULTS == {"width": fourier.width, "blocks": fourier.blocks, "modes": fourier.modes,
                                "steps_per_interval": fourier.steps_per_interval, "lr": FourierModelConfig.default_lr, "rate_lr": FourierModelConfig.default_rate_lr,
                                "polish": FourierModelConfig.default_polish}
    assert LOSSES == TRAINING_LOSSES and GALERKIN_BASES == BASES
    assert VALIDATION == {"default": samples.DEFAULT_VALIDATION, "min": samples.MIN_VALIDATION}
    assert fitting_cli.QUICKSTART_DIR == quickstart.QUICKSTART_DIR
    assert cifar10_config.ARCH_NAMES == tuple(ARCHS) and cifar10_config.PAPER_ROWS == tuple(CONFIGURATIONS)
    assert TrainConfig is cifar10_config.TrainConfig


@pytest.mark.parametrize("model", ["linear", "fourier"])
def test_fit_with_no_options_runs_the_configs_defaults(model: str) -> None:
    args = build_parser().parse_args(["fit", "data.h5", "--out", "run", "--model", model])
    family = ModelConfig() if model == "linear" else FourierModelConfig()
    assert fit_options.config_from_args(args) == fit_config.FitConfig(model=family)


def test_a_linear_fit_imports_no_plotting_scipy_xarray_or_torchvision(tmp_path) -> None:
    """What a fit does not use, it does not import: each costs memory (benchmarks/startup/results.md)."""
    import numpy as np

    from physode.problems.pde import simulate_transport_to_file

    data = simulate_transport_to_file(tmp_path / "t.h5", 8, 16, np.linspace(0.0, 0.2, 4), "exponential:c0=0.5,a=1.5",
                                      seed=0, test_fraction=0.25)
    probe = textwrap.dedent(f"""
        import sys
        from physode.cli import main
        assert main(["fit", {str(data)!r}, "--out", {str(tmp_path / "run")!r}, "--epochs", "1", "--batch-size", "4",
                     "--polish", "0", "--device", "cpu", "--quiet"]) == 0
        print(sorted(m for m in ("matplotlib", "scipy", "xarray", "h5netcdf", "torchvision") if m in sys.modules))
    """)
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True)
    assert run.stdout.split("\n")[-2] == "[]", run.stdout


@pytest.mark.parametrize("package", ["physode", "physode.training", "physode.problems.fitting", "physode.problems.pde"])
def test_every_public_name_of_a_lazy_package_resolves(package: str) -> None:
    """The packages hand out their names on first use (``__getattr__`` over ``public.py``): a name in
    ``__all__`` that ``public.py`` lacks would fail only when a user reaches for it."""
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute"):
        module.not_a_public_name  # noqa: B018
