"""The public names of :mod:`physode.training`, imported on first use (see its ``__getattr__``)."""

from __future__ import annotations

from physode.training.checkpoint import (
    load_checkpoint,
    restore_training_state,
    rng_state,
    save_checkpoint,
    set_rng_state,
    training_state,
)
from physode.training.cli import problem_subparsers
from physode.training.distributed import (
    DistContext,
    GlobalBatchNorm2d,
    all_reduce_gradients,
    all_reduce_sum,
    close_distributed,
    data_parallel,
    init_distributed,
    resolve_device,
    sync_batchnorm,
)
from physode.training.lock import RunLock, rank_zero_lock
from physode.training.metrics import (
    MetricsWriter,
    check_finite_metrics,
    non_finite_fields,
    read_metrics,
    strict_json,
    write_json,
)
from physode.training.progress import progress_bar
from physode.training.run_dir import CHECKPOINT, METRICS, check_format, clear_run, resume_state
