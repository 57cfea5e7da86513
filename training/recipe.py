"""The recipe a run gets when the user leaves a setting unset: chosen from the data and this machine.

A user's first run is `arabic-topics train --data FILE` with nothing else, on a corpus nobody tuned for. What
converges on a CPU within minutes, measured on the recipe-check suite (docs/recipe-check.md):

- a frozen lower trunk computed once per article (training/frozen_trunk.py) with the upper third of the
  encoder trained at learning rate 3e-4 (a plain full fine-tune at 5e-5 for 3 epochs stayed near chance on 12
  imbalanced classes: the rare labels were never predicted);
- on short texts (headlines, posts: 95 % within SHORT_TOKENS), where a step is cheap, more of the encoder:
  every layer, else the top two thirds, where the budget gives that depth at least DEEP_MIN_STEPS steps, at a
  learning rate scaled down with the number of layers trained (`learning_rate_for`);
- as many epochs as give about TARGET_STEPS optimiser steps, early stopping on dev macro-F1 keeping the best;
- a max length from the articles' own token lengths (short posts do not pay for 256 tokens of padding);
- class weights when the labels are imbalanced.

Each unset field is resolved here, the choice and its reason printed with a time estimate measured on this
machine, and the resolved config is what training_config.yaml keeps, so a rerun with `--config` of it repeats
the run exactly. Fields the user set are never changed. The plan is cut to fit --time-budget (`choose`), and
the run says which budget the preferred one would need; the deadline in training/loop.py holds the budget
when the estimate is wrong or the settings given do not fit it.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import Counter
from typing import NamedTuple

import numpy as np
import torch

from .config import TrainConfig, check_window_overlap

log = logging.getLogger("arabic-topics")

TARGET_STEPS = 2500  # optimiser steps the epoch count aims at (the sweep converged within 2,000-3,000 at lr 3e-4)
MIN_EPOCHS, MAX_EPOCHS = 3, 15
LENGTH_QUANTILE = 0.95  # max length covers this share of the training articles whole
LENGTH_STEP, MIN_LENGTH, MAX_LENGTH = 32, 64, 256
# Long articles are cut to this many tokens before the epochs are: the title and lead carry the topic (windows
# beyond the first 160 tokens added 0.3-0.5 macro-F1 on the long-article corpus), epochs much more (dev 0.811 at
# 160 tokens and 3 epochs, 0.843 at 128 tokens and 11; docs/recipe-check.md)
LEAD_LENGTH = 128
IMBALANCE = 3.0  # largest / smallest label count from which the loss is weighted
LEARNING_RATE = 3e-4  # the top third of the layers or fewer, on a fresh head (learning_rate_for scales it down)
SHORT_TOKENS = 64  # 95 % of the training texts within this many tokens: short texts, trained deeper
DEEP_SHARES = (1.0, 2 / 3)  # of the layers, tried on short texts (in this order) before the top third
DEEP_MIN_STEPS = 1500  # a deeper plan is kept while the budget gives it this many steps; else one layer less deep
# The top third is kept, read at its lead, while the budget gives it this many steps, before the top sixth: on the
# long-article corpus the top 4 layers for 750 steps beat the top 2 for 1,500 (dev 0.861 against 0.846, and on
# 1,200 further articles 0.839 against 0.827; docs/recipe-check.md)
TOP_THIRD_MIN_STEPS = 750
TIMING_RUNS, TIMING_SECONDS = 10, 1.0  # a layer is timed up to this many times within about this long
MIN_TRAIN_SAMPLES = 1000  # a budget may cut the training articles, never below this many
SAMPLE_CUT = 0.8  # share of the training articles each cut keeps


@dataclasses.dataclass
class Estimate:
    """Seconds of one run, from one encoder layer timed on this machine at the run's batch shape."""

    trunk_seconds: float
    step_seconds: float
    steps_per_epoch: int
    dev_seconds: float
    epochs: float
    final_seconds: float = 0.0  # dev and test scored once more by the model kept

    @property
    def total_seconds(self) -> float:
        return (self.trunk_seconds + self.epochs * (self.steps_per_epoch * self.step_seconds + self.dev_seconds)
                + self.final_seconds)

    def describe(self) -> str:
        return (f"about {self.total_seconds / 60:.0f} min at most (frozen layers {self.trunk_seconds / 60:.1f} min once, "
                f"{self.step_seconds:.2f} s/step x {self.steps_per_epoch} steps/epoch x {self.epochs:g} epochs); "
                "early stopping may end sooner")


class Plan(NamedTuple):
    """What the time budget may cut, where the user left it to the recipe."""
    freeze_layers: int
    epochs: float
    max_length: int
    train_samples: int

    def describe(self, n_layers: int) -> str:
        return (f"top {n_layers - self.freeze_layers} of {n_layers} layers, {self.epochs:g} epochs, {self.max_length} "
                f"tokens, {self.train_samples} training articles")


def token_lengths(texts: list[str], tokenizer) -> np.ndarray:
    return np.array([len(ids) for ids in tokenizer(texts, truncation=False)["input_ids"]])


def length_for(lengths: np.ndarray, model_max: int) -> int:
    wanted = int(np.quantile(lengths, LENGTH_QUANTILE))
    rounded = LENGTH_STEP * math.ceil(wanted / LENGTH_STEP)
    return int(min(max(rounded, MIN_LENGTH), MAX_LENGTH, model_max))


def learning_rate_for(trained: int, n_layers: int) -> float:
    """3e-4 for the top third of the layers or fewer; above that in inverse proportion to the layers trained
    (every layer of 12: 1e-4, the top 8: 1.5e-4). Chosen on the dev split of the titles corpora
    (docs/recipe-check.md); 5e-5 for every layer (the former default) had stayed near chance."""
    return LEARNING_RATE * min(1.0, n_layers / 3 / max(trained, 1))


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
        # the fastest of a few runs: on shared cores one run may wait for a core many times its own length
        best, runs, spent = math.inf, 0, 0.0
        while runs < 2 or (runs < TIMING_RUNS and spent < TIMING_SECONDS):
            started = time.perf_counter()
            run()
            took = time.perf_counter() - started
            best, runs, spent = min(best, took), runs + 1, spent + took
        timings.append(best)
    layer.zero_grad(set_to_none=True)
    layer.train(was_training)
    return timings[0], timings[1]


def estimate(config: TrainConfig, n_layers: int, per_layer: tuple[float, float], n_train: int, n_all: int,
             n_dev: int, mean_fraction: float, n_test: int = 0) -> Estimate:
    """Frozen layers run once over every article (sorted by length, so at their mean length); trained layers
    three passes' worth per step at the batch's padded length; dev is read once per epoch, and dev and test once
    more at the end."""
    forward, forward_backward = per_layer
    frozen = config.freeze_layers
    trained = n_layers - frozen
    batches = lambda n: math.ceil(n / config.batch_size)  # noqa: E731
    trunk = batches(n_all) * frozen * forward * mean_fraction if frozen else 0.0
    # without a frozen trunk every step also runs the lower layers (and the embeddings' gradient is off on CPU)
    step = trained * forward_backward
    dev = batches(n_dev) * trained * forward * mean_fraction
    final = dev + batches(n_test) * trained * forward * mean_fraction
    return Estimate(trunk, step, batches(n_train), dev, config.epochs, final)


def choose(config: TrainConfig, train_labels: list, train_texts: list[str], n_all: int, n_dev: int, tokenizer,
           model, bf16: bool, n_test: int = 0, spent_seconds: float = 0.0) -> tuple[TrainConfig, dict]:
    """The config with every unset field resolved, and what was chosen and why (saved in metrics.json). The
    plan fits what is left of --time-budget after `spent_seconds` (reading the data, the baseline): where the
    preferred one does not, it is cut, in this order, on the settings the user left unset. On short texts
    (95 % within SHORT_TOKENS) the preferred plan trains every layer: fewer epochs, down to DEEP_MIN_STEPS
    steps, then the top two thirds of the layers with the same epochs cut, then the plan of longer texts. That
    one trains the top third: shorter articles (down to LEAD_LENGTH), fewer epochs (down to TOP_THIRD_MIN_STEPS
    steps); then the top sixth with every epoch back, fewer epochs (down to MIN_EPOCHS), shorter articles (down
    to MIN_LENGTH), fewer training articles (down to MIN_TRAIN_SAMPLES). The run's deadline (training/loop.py
    Deadline) holds the budget whatever the estimate."""
    reasons: dict[str, str] = {}
    choices: dict = {}
    n_layers = model.config.num_hidden_layers
    model_max = min(getattr(tokenizer, "model_max_length", 512) or 512, model.config.max_position_embeddings - 2)

    lengths = token_lengths(train_texts, tokenizer)
    covered = int(np.quantile(lengths, LENGTH_QUANTILE))  # tokens that 95 % of the training texts fit in
    short = covered <= SHORT_TOKENS
    if config.max_length is None:
        choices["max_length"] = length_for(lengths, model_max)
        reasons["max_length"] = (f"{LENGTH_QUANTILE:.0%} of training articles fit in "
                                 f"{covered} tokens (median {int(np.median(lengths))})")
    multi_label = bool(train_labels) and isinstance(train_labels[0], list)
    if config.class_weights is None:
        counts = Counter(train_labels) if not multi_label else Counter()
        ratio = max(counts.values()) / min(counts.values()) if counts else 1.0
        choices["class_weights"] = not multi_label and ratio >= IMBALANCE
        reasons["class_weights"] = ("multi-label: each label has its own threshold" if multi_label else
                                    f"largest / smallest label {ratio:.1f}:1 "
                                    f"({'>=' if ratio >= IMBALANCE else '<'} {IMBALANCE:g})")
    config = dataclasses.replace(config, **choices)

    # Batches are padded to their longest article: time a layer at the length most batches reach under each
    # plan's max length, timed once per length (scaling one timing by the length overestimated a 64-token step
    # cut from 256 by 2x: attention and fixed costs do not scale with it), and scale the trunk (run over
    # length-sorted articles) by the mean length.
    timings: dict[int, tuple[float, float]] = {}
    n_train = len(train_texts)

    def cost(plan: Plan) -> Estimate:
        clipped = np.minimum(lengths, plan.max_length)
        length = max(int(np.quantile(clipped, LENGTH_QUANTILE)), 1)
        if length not in timings:
            timings[length] = time_layer(model.base_model.encoder.layer[-1], config.batch_size, length,
                                         model.config.hidden_size, bf16)
        trial = dataclasses.replace(config, freeze_layers=plan.freeze_layers, epochs=plan.epochs)
        return estimate(trial, n_layers, timings[length], plan.train_samples, n_all - n_train + plan.train_samples,
                        n_dev, float(clipped.mean() / length), n_test)

    # The preferred plan trains about TARGET_STEPS steps on every article: every layer on short texts, the upper
    # third otherwise; plans() then cuts one thing more at a time, in the order choose's docstring gives.
    frozen_for = lambda share: max(n_layers - max(1, round(n_layers * share)), 0)  # noqa: E731
    deep = [] if config.freeze_layers is not None or not short else \
        sorted({frozen_for(share) for share in DEEP_SHARES} - {frozen_for(1 / 3)})
    depths = [config.freeze_layers] if config.freeze_layers is not None else \
        sorted({frozen_for(share) for share in (1 / 3, 1 / 6)})
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    wanted_epochs = config.epochs if config.epochs is not None else \
        float(min(max(math.ceil(TARGET_STEPS / steps_per_epoch), MIN_EPOCHS), MAX_EPOCHS))
    floor_epochs = lambda steps: float(min(max(math.ceil(steps / steps_per_epoch), MIN_EPOCHS), wanted_epochs))  # noqa: E731
    deep_epochs, top_third_epochs = floor_epochs(DEEP_MIN_STEPS), floor_epochs(TOP_THIRD_MIN_STEPS)

    def plans():
        for frozen in deep:  # short texts: the deepest plan that keeps DEEP_MIN_STEPS steps
            plan = Plan(frozen, wanted_epochs, config.max_length, n_train)
            yield plan
            while config.epochs is None and plan.epochs > deep_epochs:
                yield (plan := plan._replace(epochs=plan.epochs - 1))
        plan = Plan(depths[0], wanted_epochs, config.max_length, n_train)
        yield plan
        while "max_length" in choices and plan.max_length - LENGTH_STEP >= LEAD_LENGTH:
            yield (plan := plan._replace(max_length=plan.max_length - LENGTH_STEP))
        for frozen in depths[1:]:  # the top third at its lead, down to TOP_THIRD_MIN_STEPS; then the top sixth
            while config.epochs is None and plan.epochs > top_third_epochs:
                yield (plan := plan._replace(epochs=plan.epochs - 1))
            yield (plan := plan._replace(freeze_layers=frozen, epochs=wanted_epochs))
        while config.epochs is None and plan.epochs > MIN_EPOCHS:
            yield (plan := plan._replace(epochs=plan.epochs - 1))
        while "max_length" in choices and plan.max_length - LENGTH_STEP >= MIN_LENGTH:
            yield (plan := plan._replace(max_length=plan.max_length - LENGTH_STEP))
        while config.max_train_samples is None and plan.train_samples > MIN_TRAIN_SAMPLES:
            yield (plan := plan._replace(train_samples=max(int(plan.train_samples * SAMPLE_CUT), MIN_TRAIN_SAMPLES)))

    budget = config.time_budget * 60 - spent_seconds
    preferred = None
    for plan in plans():
        cost_of = cost(plan)
        preferred = preferred or (plan, cost_of)
        if cost_of.total_seconds <= budget:
            break
    frozen = plan.freeze_layers
    fit = f"to fit {config.time_budget:g} min"
    if config.freeze_layers is None:
        trained = f"every layer of {n_layers}" if not frozen else \
            f"the top {n_layers - frozen} of {n_layers} layers on a frozen trunk computed once"
        reasons["freeze_layers"] = f"train {trained}, {fit}" + (
            f"; short texts ({LENGTH_QUANTILE:.0%} within {SHORT_TOKENS} tokens): the deepest of "
            f"{', '.join(str(n_layers - d) for d in [*deep, depths[0]])} trained layers with {deep_epochs:g}+ "
            f"epochs ({DEEP_MIN_STEPS}+ steps) within the budget" if deep else "")
    if config.epochs is None:
        cut = f"cut from {wanted_epochs:g} {fit}" if plan.epochs < wanted_epochs else \
            f"within {MIN_EPOCHS}-{MAX_EPOCHS} and the time budget"
        reasons["epochs"] = (f"about {TARGET_STEPS} steps at {steps_per_epoch} steps/epoch, {cut}; early stopping "
                             f"on dev macro-F1 (patience {config.early_stopping_patience}) keeps the best epoch")
    if plan.max_length < config.max_length:
        reasons["max_length"] += f"; cut to {plan.max_length} {fit}"
    if plan.train_samples < n_train:
        reasons["max_train_samples"] = f"{n_train} training articles cut to {plan.train_samples} (stratified) {fit}"
    config = dataclasses.replace(config, freeze_layers=frozen, epochs=plan.epochs, max_length=plan.max_length,
                                 max_train_samples=plan.train_samples if plan.train_samples < n_train
                                 else config.max_train_samples)
    if config.learning_rate is None:
        trained = n_layers - (config.freeze_layers or 0)
        config = dataclasses.replace(config, learning_rate=learning_rate_for(trained, n_layers))
        reasons["learning_rate"] = (f"{LEARNING_RATE:g} for the top third of the layers or fewer, in inverse "
                                    f"proportion above: {trained} of {n_layers} trained")
    check_window_overlap(config)
    chosen = {name: getattr(config, name) for name in reasons}
    return config, {"chosen": chosen, "reasons": reasons, "estimate_seconds": round(cost_of.total_seconds, 1),
                    "estimate": cost_of.describe(), "estimate_dev_seconds": cost_of.dev_seconds,
                    "time_budget_minutes": config.time_budget,
                    "budget": budget_note(config, plan, cost_of, *preferred, budget, spent_seconds, n_layers)}


def budget_note(config: TrainConfig, plan: Plan, cost_of: Estimate, preferred: Plan, preferred_cost: Estimate,
                budget: float, spent: float, n_layers: int) -> dict:
    """What the budget did to the plan, in metrics.json and the lines printed before training."""
    note = {"minutes": config.time_budget, "seconds_before_training": round(spent),
            "needed_minutes": math.ceil((spent + preferred_cost.total_seconds) / 60), "cut": plan != preferred,
            "fits": cost_of.total_seconds <= budget, "lines": []}
    if note["cut"]:
        note["lines"].append(f"the preferred recipe ({preferred.describe(n_layers)}) would need about "
                             f"{note['needed_minutes']} min (--time-budget {note['needed_minutes']} runs it); "
                             f"chose {plan.describe(n_layers)} instead"
                             + (f" to fit {config.time_budget:g} min" if note["fits"] else ""))
    if not note["fits"]:
        note["lines"].append(f"this recipe needs about {math.ceil((spent + cost_of.total_seconds) / 60)} min, over "
                             f"--time-budget {config.time_budget:g}: training stops in time to end within it, "
                             "keeping the best checkpoint so far")
    return note


def describe(recipe: dict) -> str:
    """The lines printed before training."""
    if not recipe["reasons"]:
        return "\n".join([f"recipe: every setting given; estimated {recipe['estimate']}",
                          *(f"  time budget: {line}" for line in recipe["budget"]["lines"])])
    lines = ["recipe chosen from the data and this machine (any option given on the command line wins):"]
    lines += [f"  {name} = {recipe['chosen'][name]:g}  ({why})" if isinstance(recipe["chosen"][name], float)
              else f"  {name} = {recipe['chosen'][name]}  ({why})" for name, why in recipe["reasons"].items()]
    lines.append(f"  estimated time: {recipe['estimate']}")
    lines += [f"  time budget: {line}" for line in recipe["budget"]["lines"]]
    return "\n".join(lines)
