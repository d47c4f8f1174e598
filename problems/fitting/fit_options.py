"""``physode fit``'s parsed options as a :class:`.fit_config.FitConfig`, and whether they set the model by
hand (:func:`model_given`) or leave it to the automatic choice (:mod:`.choose`)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from physode.errors import InputError
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.fit_parser import MODEL_DEFAULTS
from physode.problems.fitting.models import ModelConfig, ModelFamily, family_named, family_names, stored_config
from physode.training import CHECKPOINT, load_checkpoint

_FIT = FitConfig()
# The shared model options' defaults, taken once the model is set by hand (their parser default is None,
# so that an option given, even at its default value, can be told from one left out).
HAND_SET_DEFAULTS = {"model": ModelConfig().family, **MODEL_DEFAULTS}


def model_given(args: argparse.Namespace) -> bool:
    """Whether the model is set by hand: a model option, or a learning rate or polish budget (which only
    mean something for a given model; the automatic choice trains each candidate with its own)."""
    flags = [*HAND_SET_DEFAULTS, "modes", "lr", "rate_lr", "polish",
             *(dest for name in family_names() for dest in family_named(name).options.values())]
    return any(getattr(args, dest) is not None and getattr(args, dest) is not False for dest in flags)  # 0 is given


def model_config(args: argparse.Namespace, resumed: ModelFamily | None = None) -> ModelFamily:
    """The model options as a config; an option of another model family is an error, not ignored. The
    shared options left out take the family's own defaults (steps per interval: fourier 1, linear 2), and
    ``steps_per_interval`` those of ``resumed``, the run ``--resume`` continues, if it is of the same
    family (a run keeps its steps when a family's default changes)."""
    model = args.model or HAND_SET_DEFAULTS["model"]
    own = {**MODEL_DEFAULTS, **{f.name: f.default for f in dataclasses.fields(family_named(model))
                                if f.name in MODEL_DEFAULTS}}
    if resumed is not None and resumed.family == model:
        own["steps_per_interval"] = resumed.steps_per_interval
    args = argparse.Namespace(**{**vars(args), "model": model,
                                 **{key: value for key, value in own.items() if getattr(args, key) is None}})
    for name in family_names():
        misplaced = [flag for flag, dest in family_named(name).options.items()
                     if name != args.model and getattr(args, dest) not in (None, False)]
        if misplaced:
            verb, them = ("applies", "it") if len(misplaced) == 1 else ("apply", "them")
            raise InputError(f"{', '.join(misplaced)} only {verb} to --model {name}; drop {them} or pass --model {name}")
    return family_named(args.model).from_options(args)


def config_from_args(args: argparse.Namespace, resumed: ModelFamily | None = None) -> FitConfig:
    """The fit the options describe (the model's defaults where none is given; ``resumed``: see
    :func:`model_config`)."""
    return FitConfig(model=model_config(args, resumed), epochs=args.epochs or _FIT.epochs, lr=args.lr,
                     rate_lr=args.rate_lr, loss=args.loss, batch_size=args.batch_size, polish=args.polish,
                     curriculum=args.curriculum, seed=args.seed, checkpoint_every=args.checkpoint_every,
                     eval_every=args.eval_every, dtype=args.dtype, cache_mb=args.cache_mb, progress=args.progress,
                     validation_fraction=args.validation_fraction, patience=args.patience,
                     polish_patience=args.polish_patience, min_gain=args.min_gain, windows=args.windows,
                     pushforward=args.pushforward,
                     budget_seconds=args.budget_seconds)


def resumed_model(out: Path) -> ModelFamily | None:
    """The model config of the run in ``out`` (None where it holds no checkpoint)."""
    path = out / CHECKPOINT
    return stored_config(load_checkpoint(path, required={"config": dict})["config"]["model"]) if path.exists() else None
