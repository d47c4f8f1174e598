"""`physode fit` on a 2-D file: one clear refusal (2-D models come later), nothing written."""

from __future__ import annotations

import h5py
import numpy as np

from physode.cli import main


def test_fit_refuses_2d_fields_with_one_clear_error(tmp_path, capsys) -> None:
    data = tmp_path / "groups.h5"
    with h5py.File(data, "w") as f:  # PDEBench's group-per-sample layout, as another program writes it
        for i in range(10):
            f[f"{i:04d}/data"] = np.ones((3, 8, 8, 2), np.float32)
            f[f"{i:04d}/grid/x"] = f[f"{i:04d}/grid/y"] = np.linspace(0, 1, 8)
            f[f"{i:04d}/grid/t"] = np.linspace(0, 1, 3)
    run = tmp_path / "run"
    assert main(["fit", str(data), "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2-D fields are not fitted yet (this field is over x, y)" in err, err
    assert not run.exists() or not any(run.iterdir())
