"""GPU utilisation, sampled in a background thread while the runs train."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import torch


class UtilisationSampler:
    """Samples GPU utilisation (% of time a kernel ran) every ``interval`` s in a background thread.

    Reads ``torch.cuda.utilization`` (needs pynvml), else ``nvidia-smi``; on CPU, or when neither
    answers, there are no samples and :meth:`mean` returns None.
    """

    def __init__(self, device: torch.device, interval: float = 0.5):
        self.read = _utilisation_reader(device) if device.type == "cuda" else None
        self.interval, self.samples = interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.samples.append((time.monotonic(), float(self.read())))
            except Exception:  # NVML's errors are its own classes: stop, keep what was sampled
                return

    def __enter__(self) -> UtilisationSampler:
        if self.read is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def mean(self, start: float, end: float) -> float | None:
        values = [u for t, u in list(self.samples) if start <= t <= end]
        return sum(values) / len(values) if values else None


def _utilisation_reader(device: torch.device):
    try:
        torch.cuda.utilization(device)
        return lambda: torch.cuda.utilization(device)
    except Exception:  # pynvml missing or unusable (its errors are its own classes): try nvidia-smi
        pass
    if shutil.which("nvidia-smi") is None:
        return None
    uuid = str(torch.cuda.get_device_properties(device).uuid).removeprefix("GPU-")

    def nvidia_smi() -> float:
        lines = subprocess.run(["nvidia-smi", "--query-gpu=uuid,utilization.gpu", "--format=csv,noheader,nounits"],
                               capture_output=True, text=True, check=True, timeout=5).stdout.strip().splitlines()
        rows = [line.split(", ") for line in lines]
        mine = [util for gpu, util in rows if uuid in gpu] or ([rows[0][1]] if len(rows) == 1 else [])
        if not mine:
            raise ValueError(f"nvidia-smi lists no GPU {uuid}")
        return float(mine[0])

    try:
        nvidia_smi()
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return nvidia_smi

