"""Command line of the 1-D field fits: ``physode fit``, ``physode evaluate pde1d``, ``physode plot``,
``physode quickstart`` (also what ``physode`` alone runs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from physode.errors import InputError
from physode.problems.pde1d.evaluate import evaluate_run
from physode.problems.pde1d.fit import LOSSES, FitConfig, fit
from physode.problems.pde1d.models import LAYERS, VARIANTS, ModelConfig
from physode.problems.pde1d.variants import BASES
from physode.problems.pde1d.plot import plot_runs
from physode.problems.pde1d.quickstart import QUICKSTART_DIR, format_table, run_quickstart
from physode.training import add_progress_option, problem_subparsers

_FIT, _MODEL = FitConfig(), ModelConfig()
_DEVICE_HELP = "auto (CUDA if present), cpu, cuda or cuda:N"


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads", type=int, default=1,
        help="CPU threads for torch's operations. Each solver step works on a few kilobytes, so more "
             "threads only add synchronisation: on a shared 2-core machine 2 threads ran 10x slower than 1",
    )


def _set_threads(threads: int) -> None:
    if threads < 1:
        raise InputError(f"--threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)


def _add_fit(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit", help="fit a single-layer ODE model to a 1-D trajectory file",
        description="Given u(t0), learn to predict u at every stored time of a 1-D periodic trajectory "
        "file (physode format or PDEBench 1D). Writes checkpoint.pt, metrics.jsonl (one record per "
        "epoch) and metrics.json (test nRMSE) to --out; a killed run continues with --resume.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("data", type=Path, metavar="FILE", help="trajectory file (HDF5)")
    parser.add_argument("--out", type=Path, required=True, help="run directory")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its checkpoint (a fresh run if it has none)")
    model = parser.add_argument_group("model")
    model.add_argument("--variant", choices=VARIANTS, default=_MODEL.variant,
                       help="anode: static weights; neuralode: static, adjoint gradients, time as input; "
                            "anodev2: weights evolve by spectral reaction-diffusion-advection; "
                            "anodev2-neural: weights evolve by a learned q(w, t); anodev2-latent: weights "
                            "read out of a linear latent ODE (oscillations, sign changes); galerkin: weights "
                            "expanded in a basis in t (the peer)")
    model.add_argument("--layer", choices=LAYERS, default=_MODEL.layer,
                       help="spectral: one complex multiplier per Fourier mode; stencil: periodic conv1d")
    model.add_argument("--modes", type=int, default=_MODEL.modes, help="Fourier modes kept (default: all)")
    model.add_argument("--width", type=int, default=_MODEL.width, help="stencil width (odd)")
    model.add_argument("--steps-per-interval", type=int, default=_MODEL.steps_per_interval,
                       help="solver steps between two stored times")
    model.add_argument("--method", default=_MODEL.method, help="Runge-Kutta method, e.g. euler, rk4")
    model.add_argument("--per-mode-reaction", action="store_true",
                       help="anodev2: one reaction rate per Fourier mode instead of one per layer")
    model.add_argument("--hidden", type=int, default=_MODEL.hidden, help="anodev2-neural: width of q's MLP")
    model.add_argument("--latent", type=int, default=_MODEL.latent,
                       help="anodev2-latent: latent dimension m (galerkin: as many parameters)")
    model.add_argument("--basis", choices=BASES, default=_MODEL.basis, help="galerkin: basis in t")
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=int, default=_FIT.epochs)
    train.add_argument("--lr", type=float, default=_FIT.lr, help="peak learning rate (one-cycle schedule)")
    train.add_argument("--evolution-lr", type=float, default=_FIT.evolution_lr,
                       help="anodev2: peak learning rate of the evolution rates (default: --lr); rates of "
                            "order one next to small weights need a larger one, e.g. 0.1 with --lr 0.01")
    train.add_argument("--loss", choices=LOSSES, default=_FIT.loss,
                       help="mse, or relative: each state's squared error over its squared norm (nRMSE^2)")
    train.add_argument("--batch-size", type=int, default=_FIT.batch_size)
    train.add_argument("--curriculum", type=float, default=_FIT.curriculum,
                       help="fraction of the steps over which the training horizon grows from the first "
                            "interval to all (0: always all)")
    train.add_argument("--seed", type=int, default=_FIT.seed)
    train.add_argument("--checkpoint-every", type=int, default=_FIT.checkpoint_every, help="epochs")
    train.add_argument("--eval-every", type=int, default=_FIT.eval_every,
                       help="epochs between test metrics in metrics.jsonl (0: only at the end)")
    train.add_argument("--device", default="auto", help=_DEVICE_HELP)
    _add_threads(train)
    add_progress_option(train)
    parser.set_defaults(func=_run_fit)


def _config(args: argparse.Namespace) -> FitConfig:
    model = ModelConfig(variant=args.variant, layer=args.layer, modes=args.modes, width=args.width,
                        steps_per_interval=args.steps_per_interval, method=args.method,
                        per_mode_reaction=args.per_mode_reaction, hidden=args.hidden, latent=args.latent,
                        basis=args.basis)
    return FitConfig(model=model, epochs=args.epochs, lr=args.lr, evolution_lr=args.evolution_lr, loss=args.loss,
                     batch_size=args.batch_size,
                     curriculum=args.curriculum, seed=args.seed, checkpoint_every=args.checkpoint_every,
                     eval_every=args.eval_every, progress=args.progress)


def _run_fit(args: argparse.Namespace) -> int:
    _set_threads(args.threads)
    summary = fit(args.data, args.out, _config(args), device=args.device, resume=args.resume)
    print(format_table([summary]))
    print(f"wrote {args.out}/metrics.json")
    return 0


def _add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = problem_subparsers(subparsers, "evaluate", help="evaluate a checkpoint").add_parser(
        "pde1d", help="test nRMSE of a `physode fit` run",
        description="Roll the fitted model out on the test split of its data file (or --data) and report "
        "PDEBench's nRMSE (mean over samples and predicted times, and at the final time). Prints the "
        "metrics and writes them as JSON.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("run", type=Path, metavar="RUN", help="run directory or its checkpoint.pt")
    parser.add_argument("--data", type=Path, help="trajectory file (default: the one the run was fit to)")
    parser.add_argument("--out", type=Path, help="metrics JSON (default: RUN/evaluation.json)")
    parser.add_argument("--batch-size", type=int, default=_FIT.eval_batch_size)
    parser.add_argument("--device", default="auto", help=_DEVICE_HELP)
    parser.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    record = evaluate_run(args.run, args.data, args.device, args.batch_size, args.out)
    print(json.dumps({k: v for k, v in record.items() if k != "nrmse_per_time"}))
    return 0


def _add_plot(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot", help="Figure-2-style comparison of fitted runs (PNG)",
        description="Ground truth against each run's prediction for one test sample at several times, "
        "plus the learned velocity c_hat(t) against the true c(t) when the data file stores c.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run directories fit to the same file")
    parser.add_argument("--out", type=Path, required=True, help="PNG file")
    parser.add_argument("--data", type=Path, help="trajectory file (default: the one the runs were fit to)")
    parser.add_argument("--sample", type=int, default=0, help="which test sample (position in the test split)")
    parser.add_argument("--panels", type=int, default=6, help="number of snapshot times shown")
    parser.set_defaults(func=_run_plot)


def _run_plot(args: argparse.Namespace) -> int:
    plot_runs(args.runs, args.out, data=args.data, sample=args.sample, panels=args.panels)
    print(f"wrote {args.out}")
    return 0


def _add_quickstart(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quickstart", help="end-to-end demo: transport data, ANODE vs ANODEV2, table and figure",
        description="Simulate transport dz/dt = c(t) dz/dx with exponential c(t), fit ANODE, Neural ODE "
        "and ANODEV2, print test nRMSE and fit time, and draw the Figure-2-style comparison (a few "
        "minutes on a laptop CPU). Rerunning reuses finished fits.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path(QUICKSTART_DIR), help="output directory")
    parser.add_argument("--device", default="auto", help=_DEVICE_HELP)
    _add_threads(parser)
    add_progress_option(parser)
    parser.set_defaults(func=_run_quickstart)


def _run_quickstart(args: argparse.Namespace) -> int:
    _set_threads(args.threads)
    run_quickstart(args.out, device=args.device, progress=args.progress)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``fit``, ``evaluate pde1d``, ``plot`` and ``quickstart`` to the ``physode`` command line."""
    _add_fit(subparsers)
    _add_evaluate(subparsers)
    _add_plot(subparsers)
    _add_quickstart(subparsers)
