"""Problem-independent training utilities: run directories, checkpoints, exact resume,
metrics, progress bars, data parallel, CLI."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CHECKPOINT", "DistContext", "GlobalBatchNorm2d", "METRICS", "MetricsWriter", "RunLock",
    "all_reduce_gradients", "all_reduce_sum", "check_finite_metrics", "check_format", "clear_run", "close_distributed",
    "data_parallel", "init_distributed", "load_checkpoint", "non_finite_fields", "problem_subparsers", "progress_bar",
    "rank_zero_lock", "read_metrics", "resolve_device", "restore_training_state", "resume_state",
    "rng_state", "save_checkpoint", "set_rng_state", "strict_json", "sync_batchnorm",
    "training_state", "write_json",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: the command line's parsers import this package's light modules and
    # must build without torch (physode/cli.py).
    if name in __all__:
        from physode.training import public

        return getattr(public, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
