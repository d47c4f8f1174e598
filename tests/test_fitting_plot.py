"""The Figure-2 plot of fitted runs, and the quickstart (slow: it is the benchmark's short version)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib import colors, image

from physode.cli import main
from physode.errors import InputError
from physode.problems.pde import simulate_diffusion, simulate_transport_to_file
from physode.problems.fitting.estimates import diffusivity_estimate, velocity_estimate
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig
from physode.problems.fitting.plot import TRUTH_COLOR, draw, load_runs, plot_runs, run_colors
from physode.trajectories import write

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("plot")
    data = simulate_transport_to_file(root / "transport.h5", 12, 16, np.linspace(0.0, 0.3, 5), "exponential:c0=0.5,a=1.5",
                            seed=0, test_fraction=0.25)
    dirs = []
    for variant in ("anode", "anodev2"):
        dirs.append(_fit(data, root / variant, variant))
    return data, dirs


def _fit(data: Path, out: Path, variant: str, seed: int = 0) -> Path:
    config = FitConfig(model=ModelConfig(variant=variant), epochs=1, batch_size=9, eval_every=0, progress=False,
                       seed=seed)
    fit(data, out, config, device="cpu")
    return out


def test_plot_writes_a_png_with_the_velocity_panel(runs: tuple[Path, list[Path]], tmp_path: Path) -> None:
    _, dirs = runs
    out = tmp_path / "fig.png"
    assert main(["plot", *map(str, dirs), "--out", str(out), "--panels", "4", "--sample", "2"]) == 0
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    pixels = image.imread(out)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 600
    assert pixels[..., :3].std() > 0.05  # something was drawn
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically


def test_plot_input_errors(runs: tuple[Path, list[Path]], tmp_path: Path) -> None:
    data, dirs = runs
    with pytest.raises(InputError, match="out of range"):
        plot_runs(dirs, tmp_path / "fig.png", sample=99)
    other = simulate_transport_to_file(tmp_path / "other.h5", 12, 32, np.linspace(0.0, 0.3, 5), "constant:c0=1")
    with pytest.raises(InputError, match="same grid"):
        plot_runs(dirs, tmp_path / "fig.png", data=other)
    with pytest.raises(InputError, match="does not exist"):
        plot_runs([tmp_path / "missing"], tmp_path / "fig.png")
    assert not (tmp_path / "fig.png").exists()


def test_two_runs_of_one_variant_have_their_own_colour_and_name(runs: tuple[Path, list[Path]],
                                                                 tmp_path: Path) -> None:
    data, (anode, anodev2) = runs
    again = _fit(data, tmp_path / "anodev2-seed1", "anodev2", seed=1)
    fig = draw(load_runs([anode, anodev2, again]), panels=3)
    legend = fig.legends[0]
    assert [text.get_text() for text in legend.get_texts()] == [
        "ground truth", "anode: ANODE", "anodev2: ANODEV2", "anodev2-seed1: ANODEV2"]
    drawn = [colors.to_hex(handle.get_color()) for handle in legend.legend_handles]
    assert len(set(drawn)) == 4  # the truth and every run apart
    assert drawn[:3] == [colors.to_hex(c) for c in (TRUTH_COLOR, "C1", "C2")]  # the paper's colours stay
    assert legend.legend_handles[2].get_linestyle() == legend.legend_handles[3].get_linestyle()  # the variant's
    velocity = fig.axes[3]  # after the 3 snapshot panels
    assert velocity.get_title().startswith("velocity: learned c_hat(t)") and len(velocity.get_lines()) == 4


def test_run_colours_skip_the_truth_and_every_registered_colour_in_use() -> None:
    assert run_colors(["anode", "anodev2"]) == ["C1", "C2"]
    assert run_colors(["anodev2", "anodev2", "anodev2"]) == ["C2", "C1", "C3"]
    assert run_colors(["anodev2", "anode", "anodev2"]) == ["C2", "C1", "C3"]


def test_a_panel_for_every_stored_coefficient(tmp_path: Path) -> None:
    times = np.linspace(0.0, 0.3, 5)
    data = simulate_diffusion(12, 16, times, nu="exponential:c0=0.002,a=1.5", seed=0)
    data = dataclasses.replace(data, coefficients={**data.coefficients, "kappa": 1 + times})  # no model reads it
    path = write(tmp_path / "diffusion.h5", data, seed=0, test_fraction=0.25)
    fig = draw(load_runs([_fit(path, tmp_path / "run", "anodev2")]), panels=2)
    panels = {ax.get_ylabel(): ax for ax in fig.axes[2:]}  # after the 2 snapshot panels, one per coefficient
    assert sorted(panels) == ["kappa", "nu"]
    nu, kappa = panels["nu"], panels["kappa"]
    assert nu.get_title() == "diffusivity: learned nu_hat(t) vs true nu(t)" and len(nu.get_lines()) == 2
    np.testing.assert_allclose(nu.get_lines()[0].get_ydata(), data.coefficients["nu"])
    assert kappa.get_title() == "kappa(t), stored (no model estimate of it)" and len(kappa.get_lines()) == 1
    np.testing.assert_allclose(kappa.get_lines()[0].get_ydata(), 1 + times)


def test_estimates_read_diffusivity_and_velocity_off_an_advection_diffusion_symbol() -> None:
    n_x, dx = 32, 1 / 32
    k = 2 * math.pi * torch.fft.rfftfreq(n_x, d=dx, dtype=torch.float64)
    nu, c = torch.tensor([0.01, 0.02, 0.04], dtype=torch.float64), torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    symbols = torch.complex(-nu[:, None] * k.square(), c[:, None] * k)[..., None, None]  # (times, modes, 1, 1)
    energy = torch.rand(n_x // 2 + 1, dtype=torch.float64)
    torch.testing.assert_close(diffusivity_estimate(symbols, n_x, dx, energy), nu)
    torch.testing.assert_close(velocity_estimate(symbols, n_x, dx, energy), c)


@pytest.mark.slow
def test_quickstart_anodev2_beats_anode_tenfold(tmp_path: Path) -> None:
    assert main(["quickstart", "--out", str(tmp_path), "--no-progress", "--device", "cpu"]) == 0
    results = (tmp_path / "results.md").read_text()
    rows = {line.split("|")[1].strip(): float(line.split("|")[4]) for line in results.splitlines()
            if line.startswith("| anode")}
    assert rows["anodev2"] * 10 < rows["anode"]
    assert (tmp_path / "figure2.png").read_bytes()[:8] == PNG_SIGNATURE
