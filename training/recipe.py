"""The recipe a run gets when the user leaves a setting unset: chosen from the data and this machine.

A user's first run is `arabic-topics train --data FILE` with nothing else, on a corpus nobody tuned for. What
converges on a CPU within minutes, measured on the recipe-check suite (docs/recipe-check.md):

- a frozen lower trunk computed once per article (training/frozen_trunk.py) with the upper third of the
  encoder trained at learning rate 3e-4 (a plain full fine-tune at 5e-5 for 3 epochs stayed near chance on 12
  imbalanced classes: the rare labels were never predicted);
- as many epochs as give about TARGET_STEPS optimiser steps, early stopping on dev macro-F1 keeping the best;
- a max length from the articles' own token lengths (short posts do not pay for 256 tokens of padding);
- class weights when the labels are imbalanced.

Each unset field is resolved here, the choice and its reason printed with a time estimate measured on this
machine, and the resolved config is what training_config.yaml keeps, so a rerun with `--config` of it repeats
the run exactly. Fields the user set are never changed.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import Counter

import numpy as np
import torch

from .config import TrainConfig, check_window_overlap

log = logging.getLogger("arabic-topics")

TARGET_STEPS = 2500  # optimiser steps the epoch count aims at (the sweep converged within 2,000-3,000 at lr 3e-4)
MIN_EPOCHS, MAX_EPOCHS = 3, 15
LENGTH_QUANTILE = 0.95  # max length covers this share of the training articles whole
LENGTH_STEP, MIN_LENGTH, MAX_LENGTH = 32, 64, 256
IMBALANCE = 3.0  # largest / smallest label count from which the loss is weighted
LEARNING_RATE = {"top": 3e-4, "all": 5e-5}  # a few fresh-headed top layers vs every layer of the encoder


@dataclasses.dataclass
class Estimate:
    """Seconds of one run, from one encoder layer timed on this machine at the run's batch shape."""

    trunk_seconds: float
    step_seconds: float
    steps_per_epoch: int
    dev_seconds: float
    epochs: float

    @property
    def total_seconds(self) -> float:
        return self.trunk_seconds + self.epochs * (self.steps_per_epoch * self.step_seconds + self.dev_seconds)

    def describe(self) -> str:
        return (f"about {self.total_seconds / 60:.0f} min at most (frozen layers {self.trunk_seconds / 60:.1f} min once, "
                f"{self.step_seconds:.2f} s/step x {self.steps_per_epoch} steps/epoch x {self.epochs:g} epochs); "
                "early stopping may end sooner")


def token_lengths(texts: list[str], tokenizer) -> np.ndarray:
    return np.array([len(ids) for ids in tokenizer(texts, truncation=False)["input_ids"]])


def length_for(lengths: np.ndarray, model_max: int) -> int:
    wanted = int(np.quantile(lengths, LENGTH_QUANTILE))
    rounded = LENGTH_STEP * math.ceil(wanted / LENGTH_STEP)
    return int(min(max(rounded, MIN_LENGTH), MAX_LENGTH, model_max))


def time_layer(layer, batch: int, length: int, hidden: int, bf16: bool) -> tuple[float, float]:
    """(forward without gradient, forward + backward) seconds of one encoder layer on a batch of this shape."""
    x = torch.randn(batch, length, hidden)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)

    def forward_only():
        with torch.inference_mode(), autocast:
            layer(x)

    def forward_backward():
        with autocast:
            out = layer(x.requires_grad_(False))
        (out[0] if isinstance(out, tuple) else out).float().mean().backward()

    timings = []
    was_training = layer.training
    for run, training in ((forward_only, False), (forward_backward, True)):
        # in training mode for the step: dropout (attention dropout above all) more than doubled a step's time
        layer.train(training)
        run()  # warm-up: first calls allocate and pick kernels
        best = math.inf
        for _ in range(2):
            started = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - started)
        timings.append(best)
    layer.zero_grad(set_to_none=True)
    layer.train(was_training)
    return timings[0], timings[1]


def estimate(config: TrainConfig, n_layers: int, per_layer: tuple[float, float], n_train: int, n_all: int,
             n_dev: int, mean_fraction: float) -> Estimate:
    """Frozen layers run once over every article (sorted by length, so at their mean length); trained layers
    three passes' worth per step at the batch's padded length; dev is read once per epoch."""
    forward, forward_backward = per_layer
    frozen = config.freeze_layers
    trained = n_layers - frozen
    batches = lambda n: math.ceil(n / config.batch_size)  # noqa: E731
    trunk = batches(n_all) * frozen * forward * mean_fraction if frozen else 0.0
    # without a frozen trunk every step also runs the lower layers (and the embeddings' gradient is off on CPU)
    step = trained * forward_backward
    dev = batches(n_dev) * trained * forward * mean_fraction
    return Estimate(trunk, step, batches(n_train), dev, config.epochs)


def choose(config: TrainConfig, train_labels: list, train_texts: list[str], n_all: int, n_dev: int, tokenizer,
           model, bf16: bool) -> tuple[TrainConfig, dict]:
    """The config with every unset field resolved, and what was chosen and why (saved in metrics.json)."""
    reasons: dict[str, str] = {}
    choices: dict = {}
    n_layers = model.config.num_hidden_layers
    model_max = min(getattr(tokenizer, "model_max_length", 512) or 512, model.config.max_position_embeddings - 2)

    lengths = token_lengths(train_texts, tokenizer)
    if config.max_length is None:
        choices["max_length"] = length_for(lengths, model_max)
        reasons["max_length"] = (f"{LENGTH_QUANTILE:.0%} of training articles fit in "
                                 f"{int(np.quantile(lengths, LENGTH_QUANTILE))} tokens (median {int(np.median(lengths))})")
    multi_label = bool(train_labels) and isinstance(train_labels[0], list)
    if config.class_weights is None:
        counts = Counter(train_labels) if not multi_label else Counter()
        ratio = max(counts.values()) / min(counts.values()) if counts else 1.0
        choices["class_weights"] = not multi_label and ratio >= IMBALANCE
        reasons["class_weights"] = ("multi-label: each label has its own threshold" if multi_label else
                                    f"largest / smallest label {ratio:.1f}:1 "
                                    f"({'>=' if ratio >= IMBALANCE else '<'} {IMBALANCE:g})")
    config = dataclasses.replace(config, **choices)

    # Batches are padded to their longest article: time a layer at the length most batches reach, and scale
    # the trunk (run over length-sorted articles) by the mean length.
    clipped = np.minimum(lengths, config.max_length)
    length = int(np.quantile(clipped, LENGTH_QUANTILE))
    mean_fraction = float(clipped.mean() / length)
    per_layer = time_layer(model.base_model.encoder.layer[-1], config.batch_size, length, model.config.hidden_size,
                           bf16)
    budget = config.time_budget * 60
    # Preference order: train the upper third of the layers, else the upper sixth; the most epochs that fit.
    depths = [config.freeze_layers] if config.freeze_layers is not None else \
        sorted({max(n_layers - max(1, round(n_layers / k)), 0) for k in (3, 6)})
    steps_per_epoch = math.ceil(len(train_texts) / config.batch_size)
    wanted_epochs = config.epochs if config.epochs is not None else \
        float(min(max(math.ceil(TARGET_STEPS / steps_per_epoch), MIN_EPOCHS), MAX_EPOCHS))
    plan = None
    for frozen in depths:
        trial = dataclasses.replace(config, freeze_layers=frozen, epochs=wanted_epochs)
        plan = estimate(trial, n_layers, per_layer, len(train_texts), n_all, n_dev, mean_fraction)
        if plan.total_seconds <= budget:
            break
    if config.epochs is None and plan.total_seconds > budget:
        per_epoch = plan.steps_per_epoch * plan.step_seconds + plan.dev_seconds
        plan.epochs = float(max(MIN_EPOCHS, math.floor((budget - plan.trunk_seconds) / per_epoch)))
    if config.freeze_layers is None:
        reasons["freeze_layers"] = (f"train the top {n_layers - frozen} of {n_layers} layers on a frozen trunk "
                                    f"computed once, to fit {config.time_budget:g} min")
    if config.epochs is None:
        fit = (f"cut from {wanted_epochs:g} to fit {config.time_budget:g} min" if plan.epochs < wanted_epochs
               else f"within {MIN_EPOCHS}-{MAX_EPOCHS} and the time budget")
        reasons["epochs"] = (f"about {TARGET_STEPS} steps at {steps_per_epoch} steps/epoch, {fit}; early stopping "
                             f"on dev macro-F1 (patience {config.early_stopping_patience}) keeps the best epoch")
    config = dataclasses.replace(config, freeze_layers=frozen, epochs=plan.epochs)
    if config.learning_rate is None:
        kind = "top" if config.freeze_layers else "all"
        config = dataclasses.replace(config, learning_rate=LEARNING_RATE[kind])
        reasons["learning_rate"] = ("fresh head and a few top layers" if kind == "top" else "every layer trained")
    check_window_overlap(config)
    chosen = {name: getattr(config, name) for name in reasons}
    return config, {"chosen": chosen, "reasons": reasons, "estimate_seconds": round(plan.total_seconds),
                    "estimate": plan.describe(), "time_budget_minutes": config.time_budget}


def describe(recipe: dict) -> str:
    """The lines printed before training."""
    if not recipe["reasons"]:
        return f"recipe: every setting given; estimated {recipe['estimate']}"
    lines = ["recipe chosen from the data and this machine (any option given on the command line wins):"]
    lines += [f"  {name} = {recipe['chosen'][name]:g}  ({why})" if isinstance(recipe["chosen"][name], float)
              else f"  {name} = {recipe['chosen'][name]}  ({why})" for name, why in recipe["reasons"].items()]
    lines.append(f"  estimated time: {recipe['estimate']}")
    return "\n".join(lines)
