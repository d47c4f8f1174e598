"""The Figure-2 plot of fitted runs, and the quickstart (slow: it is the benchmark's short version)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from physode.cli import main
from physode.errors import InputError
from physode.problems.pde import simulate_transport_to_file
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig
from physode.problems.fitting.plot import plot_runs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("plot")
    data = simulate_transport_to_file(root / "transport.h5", 12, 16, np.linspace(0.0, 0.3, 5), "exponential:c0=0.5,a=1.5",
                            seed=0, test_fraction=0.25)
    dirs = []
    for variant in ("anode", "anodev2"):
        config = FitConfig(model=ModelConfig(variant=variant), epochs=1, batch_size=9, eval_every=0, progress=False)
        fit(data, root / variant, config, device="cpu")
        dirs.append(root / variant)
    return data, dirs


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


@pytest.mark.slow
def test_quickstart_anodev2_beats_anode_tenfold(tmp_path: Path) -> None:
    assert main(["quickstart", "--out", str(tmp_path), "--no-progress", "--device", "cpu"]) == 0
    results = (tmp_path / "results.md").read_text()
    rows = {line.split("|")[1].strip(): float(line.split("|")[4]) for line in results.splitlines()
            if line.startswith("| anode")}
    assert rows["anodev2"] * 10 < rows["anode"]
    assert (tmp_path / "figure2.png").read_bytes()[:8] == PNG_SIGNATURE
