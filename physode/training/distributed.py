"""Multi-process data parallel set-up shared by every problem (launched with ``torchrun``).

``torchrun`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; without them everything runs as a
single process and no process group is created. NCCL is used on CUDA, gloo otherwise. Values no
launcher sets (``WORLD_SIZE=0``, a rank outside the world) are refused before any process group is
joined: a rank that does not exist would wait for its peers forever.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from physode.errors import InputError


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the job and which device it trains on."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 writes files and prints progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


@dataclass(frozen=True)
class LaunchEnvironment:
    """What ``torchrun`` told this process: ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``, checked."""

    rank: int
    world_size: int
    local_rank: int


def _env_int(name: str, default: int, low: int, high: int | None = None) -> int:
    text = os.environ.get(name, str(default))
    try:
        value = int(text.strip(), 10)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        wanted = f"an integer >= {low}" + (f" and <= {high}" if high is not None else "")
        raise InputError(f"environment variable {name}={text!r} is not {wanted}; unset it to run one process, "
                         "or launch with torchrun")
    return value


def launch_environment() -> LaunchEnvironment:
    """``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (defaults 0, 1, 0); an :class:`InputError` if malformed
    or if ``RANK`` is not below ``WORLD_SIZE``."""
    world_size = _env_int("WORLD_SIZE", 1, 1)
    return LaunchEnvironment(rank=_env_int("RANK", 0, 0, world_size - 1), world_size=world_size,
                             local_rank=_env_int("LOCAL_RANK", 0, 0))


# Device types a model here trains on; torch.device also accepts meta, hpu, xla ..., which fail later.
_TRAINING_DEVICES = ("cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """``"auto"`` picks CUDA when present; an unknown or unavailable device is an :class:`InputError`."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise InputError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from err
    if device.type not in _TRAINING_DEVICES:
        raise InputError(f"device {name!r} is not one physode trains on; use auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {name!r} requested but CUDA is not available; use --device cpu")
    if device.index is not None and device.type == "cuda" and device.index >= torch.cuda.device_count():
        raise InputError(f"device {name!r} requested but there are {torch.cuda.device_count()} CUDA devices; "
                         "use cuda:0 .. cuda:N-1")
    return device


def init_distributed(device: str = "auto") -> DistContext:
    """Join the ``torchrun`` process group if there is one; each rank takes CUDA device LOCAL_RANK."""
    launch = launch_environment()
    world_size = launch.world_size
    target = resolve_device(device)
    if world_size == 1:
        return DistContext(0, 1, target)
    local_rank = launch.local_rank
    if target.type == "cuda":
        target = torch.device("cuda", local_rank)
        torch.cuda.set_device(target)
    if not dist.is_initialized():
        if target.type == "cuda":
            dist.init_process_group("nccl", device_id=target)
        else:
            dist.init_process_group("gloo")
    return DistContext(dist.get_rank(), world_size, target)


def close_distributed(wait: bool = False) -> None:
    """Leave the process group (a no-op for a single process). ``wait``: first wait for every rank
    (after a run that ended normally), so that no rank tears its group down while another still uses
    it: a gloo rank left in a group its peer has destroyed may abort at exit ("terminate called
    without an active exception"). Not after an error: a peer that died would never arrive."""
    if dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over ranks in place and return it (unchanged for a single process)."""
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(tensor)
    return tensor


def data_parallel(model: nn.Module, ctx: DistContext) -> nn.Module:
    """``model`` in torch's :class:`~torch.nn.parallel.DistributedDataParallel` under ``torchrun`` (it
    averages the gradients over ranks during backward, one call per rank and step), ``model`` itself
    for one process. Train through the wrapper; ``model`` keeps the parameters and state-dict keys."""
    if not ctx.distributed:
        return model
    return nn.parallel.DistributedDataParallel(model, device_ids=[ctx.device] if ctx.device.type == "cuda" else None)


def all_reduce_gradients(model: nn.Module) -> None:
    """Sum every parameter's gradient over the ranks in one flat all-reduce (a no-op for one
    process); a parameter without a gradient (a rank with an empty shard) contributes zeros.

    For gradients :func:`data_parallel` cannot reduce: those accumulated over a number of backward
    calls that differs between ranks (the L-BFGS polish's chunks)."""
    params = [p for p in model.parameters() if p.requires_grad]
    grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
    flat = all_reduce_sum(torch.cat([grad.ravel() for grad in grads]))
    for p, grad in zip(params, flat.split([p.numel() for p in params])):
        p.grad = grad.view_as(p)


class _SumOverRanks(torch.autograd.Function):
    """All-reduce (sum) that autograd differentiates: each rank's output depends on every rank's input,
    so the gradient of an input is the sum over ranks of the output's gradients, an all-reduce too.
    Ours because torch's ``torch.distributed.nn.functional.all_reduce`` is deprecated (it warns) in
    favour of a private module."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        dist.all_reduce(total)
        return total


def sum_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` summed over the ranks of the process group, with gradients (each rank calls it)."""
    return _SumOverRanks.apply(tensor)


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics span the global batch of all ranks, on any backend.

    PyTorch's :class:`torch.nn.SyncBatchNorm` only runs on accelerators; this one uses autograd-aware
    all-reduces (mean, then centred second moment, for accuracy) so a CPU/gloo job computes exactly
    what one process computes on the whole batch. Outside training or a process group it is plain
    BatchNorm2d, with the same state-dict keys.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        xf = x.float()
        local = torch.cat([xf.sum(dim=(0, 2, 3)), xf.new_tensor([xf.numel() / xf.shape[1]])])
        total = sum_over_ranks(local)
        count = total[-1]
        mean = total[:-1] / count
        centred = xf - mean[None, :, None, None]
        var = sum_over_ranks(centred.square().sum(dim=(0, 2, 3))) / count
        out = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            out = out * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(var.detach() * count / (count - 1), momentum)
        return out.to(x.dtype)


def sync_batchnorm(model: nn.Module, device: torch.device) -> nn.Module:
    """Make every BatchNorm2d of ``model`` use global-batch statistics (native SyncBatchNorm on CUDA)."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for name, child in model.named_children():
        if type(child) is nn.BatchNorm2d:
            replacement = GlobalBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                            child.track_running_stats, device=device)
            replacement.load_state_dict(child.state_dict())
            setattr(model, name, replacement)
        else:
            sync_batchnorm(child, device)
    return model
