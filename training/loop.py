"""The training phase: what the Hugging Face Trainer is given (the trainable top over a frozen trunk's
cached outputs, or the whole model), the loss with class weights and partial labels, and the callbacks that hold
the time budget, stop on an interrupt and print readable progress."""
from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import datasets
import numpy as np
import torch
from accelerate import PartialState
from transformers import (DataCollatorWithPadding,
                          ProgressCallback, Trainer, TrainerCallback)

from .metrics import (masked_multi_label_scores, multi_label_scores, single_label_scores)

from .config import TrainConfig
from .frozen_trunk import CachedFeatures, FrozenTrunk, cache_file_for, collate_features, trunk_features
from . import distillation

log = logging.getLogger("arabic-topics")


class TrainerInputs(NamedTuple):
    model: torch.nn.Module  # what the Trainer trains: the whole model, or with a frozen trunk its trainable top
    data: Mapping  # split name -> dataset
    collator: Callable
    sampling: str  # the Trainer's train_sampling_strategy
    trunk: FrozenTrunk | None  # to reattach() once training is done


def trainer_inputs(model, tokenizer, encoded: Mapping, n_frozen: int, base_path: str, bf16: bool,
                   cache_folder: str | Path | None, processes: PartialState | None = None) -> TrainerInputs:
    """With frozen lower layers, these run once per article, not once per step (see frozen_trunk.py): the
    Trainer gets the model's trainable top and the trunk's outputs. Otherwise the whole model and token ids."""
    if not n_frozen:
        return TrainerInputs(model, encoded, DataCollatorWithPadding(tokenizer), "group_by_length", None)
    trunk = FrozenTrunk(model, n_frozen)
    data = trunk_datasets(trunk, encoded, base_path, bf16, tokenizer.pad_token_id, cache_folder, processes)
    return TrainerInputs(trunk.detach(), data, collate_features, "random", trunk)


def trunk_datasets(trunk: FrozenTrunk, encoded: Mapping, base_path: str, bf16: bool, pad_id: int,
                   cache_folder: str | Path | None, processes: PartialState | None) -> dict[str, CachedFeatures]:
    """The trunk's outputs for every split's articles, encoded in one pass over all of them, read from and
    added to a cache file in `cache_folder` if one is given; `processes` is None for a single process."""
    cache = cache_file_for(cache_folder, base_path, trunk.n_frozen, bf16) if cache_folder else None
    encoded = {name: part for name, part in encoded.items() if len(part)}  # an empty split has no columns
    ids = {name: list(part["input_ids"]) for name, part in encoded.items()}
    # With a cache the main process encodes and writes it, and the others then read it back; without one,
    # each process encodes the articles itself, all at once.
    with processes.main_process_first() if processes and cache else contextlib.nullcontext():
        hidden = iter(trunk_features(trunk, [x for part in ids.values() for x in part], bf16, pad_id, cache,
                                     write_cache=not processes or processes.is_main_process))
    return {name: CachedFeatures([next(hidden) for _ in ids[name]], part["labels"],
                                 part["label_mask"] if "label_mask" in part.column_names else None)
            for name, part in encoded.items()}


def distill(config: TrainConfig, train_part: datasets.Dataset, encoded: dict, labels: list[str],
            multi_label: bool) -> dict:
    """Replace the training targets in `encoded` by the mix of gold labels and the teacher's probabilities
    (training/distillation.py); returns what metrics.json records of it."""
    started = time.perf_counter()
    probs = distillation.teacher_probabilities(config.distill_from, train_part, labels, multi_label,
                                               config.use_title)
    agreed = distillation.agreement(probs, encoded["train"], multi_label)
    encoded["train"] = distillation.soft_targets(encoded["train"], probs, config.distill_weight, len(labels))
    log.info("distillation: teacher %s agrees with %.1f %% of the training labels (%.0f s)", config.distill_from,
             100 * agreed, time.perf_counter() - started)
    return {"teacher": str(config.distill_from), "weight": config.distill_weight,
            "teacher_train_agreement": round(agreed, 4)}


def class_weights(config: TrainConfig, train: datasets.Dataset, n_labels: int,
                  multi_label: bool) -> torch.Tensor | None:
    """Cross-entropy weights by inverse label frequency, with the class_weights option (single-label only)."""
    if not config.class_weights or multi_label:
        return None
    counts = np.bincount(train["labels"], minlength=n_labels).astype(np.float32)
    return torch.tensor(counts.sum() / (n_labels * np.maximum(counts, 1)))


def scorer(labels: list[str], multi_label: bool, partial: bool) -> Callable:
    """The Trainer's compute_metrics: logits above 0 are the predicted labels of a multi-label model."""

    def compute_metrics(prediction):
        logits, gold = prediction.predictions, prediction.label_ids
        if partial:
            gold, mask = gold
            scores = masked_multi_label_scores(gold.astype(int), (logits > 0).astype(int), mask, labels)
            return {k: v for k, v in scores.items() if k != "per_label_f1"}
        if multi_label:
            return multi_label_scores(gold.astype(int), (logits > 0).astype(int))
        keep = gold != -100
        return single_label_scores(gold[keep], logits.argmax(-1)[keep])

    return compute_metrics


class TopicTrainer(Trainer):
    """The Trainer, with losses of ours: cross-entropy weighted by inverse label frequency (the class_weights
    option) or against probability targets (single-label distillation), and for partial labels a binary
    cross-entropy over the known entries only."""

    def __init__(self, *args, class_weights: torch.Tensor | None = None, soft_targets: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights
        self.soft_targets = soft_targets

    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        mask = inputs.pop("label_mask", None)
        if mask is None and self.class_weights is None and not self.soft_targets:
            return super().compute_loss(model, inputs, return_outputs, **kwargs)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs.logits.float()
        if mask is not None:
            losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels.float(), reduction="none")
            loss = (losses * mask).sum() / mask.sum().clamp(min=1)
        else:
            weight = self.class_weights.to(logits.device) if self.class_weights is not None else None
            loss = torch.nn.functional.cross_entropy(logits, labels, weight=weight)  # class ids or probabilities
        return (loss, outputs) if return_outputs else loss


class ReadableProgress(ProgressCallback):
    """The Trainer's progress bar, with its log lines written for people: `step 120/4536 · epoch 0.32 · loss
    0.2103 · learning rate 2.6e-04` and `dev after epoch 1: macro-F1 0.8712 · micro-F1 0.9021 · loss 0.2`
    instead of dicts of numbers in strings."""

    NAMES = {"loss": "loss", "learning_rate": "learning rate", "grad_norm": "grad norm"}

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or self.training_bar is None or not logs:
            return
        if any(key.startswith("eval_") for key in logs):
            scores = [f"{key[5:].replace('_f1', '-F1').replace('_', ' ')} {value:.4f}"
                      for key, value in logs.items() if key.endswith("_f1") or key == "eval_loss"]
            line = f"dev after epoch {logs.get('epoch', state.epoch):g}: " + " · ".join(scores)
        elif "train_runtime" in logs:
            line = (f"trained {state.global_step} steps in {logs['train_runtime'] / 60:.1f} min, mean loss "
                    f"{logs.get('train_loss', float('nan')):.4f}")
        else:
            parts = [f"{name} {logs[key]:.4g}" if key != "learning_rate" else f"{name} {logs[key]:.1e}"
                     for key, name in self.NAMES.items() if key in logs]
            line = f"step {state.global_step}/{state.max_steps} · epoch {logs.get('epoch', state.epoch):.2f} · " \
                + " · ".join(parts)
        self.training_bar.write(line)


def agreed(flag: bool, args) -> bool:
    """A flag as every process of a distributed run agrees on it (raised if any process raised it), so that
    all stop after the same step: one stopping alone would leave the others waiting in their next all-reduce."""
    if args.world_size > 1:
        tensor = torch.tensor([int(flag)], device=args.device)
        torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.MAX)
        return bool(tensor.item())
    return flag


class Deadline(TrainerCallback):
    """Ends training in time for the run to end by `at` (time.monotonic(); None: never). After each step,
    training goes on only while one more step and all that follows the last one still fit: the evaluation of
    the model trained so far (at the epoch's end, or of the part-epoch) and its checkpoint, the best checkpoint
    loaded back, dev and test scored, the model saved, and `end_seconds` for the rest. Steps, evaluations and
    checkpoints are timed as training goes (the first evaluation's time is guessed: `dev_seconds`), so the
    clock holds when the estimate was wrong; the best checkpoint so far is what is kept."""

    def __init__(self, at: float | None, dev_seconds: float = 0.0, test_share: float = 0.0, end_seconds: float = 0.0):
        self.at, self.dev_seconds, self.test_share, self.end_seconds = at, dev_seconds, test_share, end_seconds
        self.step_seconds = self.save_seconds = 0.0
        self.reached = False
        self._mark = time.monotonic()

    def on_step_begin(self, args, state, control, **kwargs):
        self._mark = time.monotonic()

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self.dev_seconds = max(self.dev_seconds, (metrics or {}).get("eval_runtime", 0.0))
        self._mark = time.monotonic()  # a checkpoint saved next is timed from here

    def on_save(self, args, state, control, **kwargs):
        self.save_seconds = max(self.save_seconds, time.monotonic() - self._mark)

    def on_step_end(self, args, state, control, **kwargs):
        now = time.monotonic()
        self.step_seconds = max(self.step_seconds, now - self._mark)
        self._mark = now
        # after the step that stops: up to two evaluations (the epoch's end, then the part-epoch) and their
        # checkpoints, the best one loaded back, dev and test scored, the model saved
        finish = (self.step_seconds + (3 + self.test_share) * self.dev_seconds + 4 * self.save_seconds
                  + self.end_seconds)
        if agreed(self.at is not None and now + finish >= self.at, args):
            self.reached = control.should_training_stop = True
            if args.eval_strategy == "steps":  # at an epoch's end the Trainer evaluates and saves anyway
                control.should_evaluate = control.should_save = True


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the checkpoint that --resume continues from was written."""


class StopOnInterrupt(TrainerCallback):
    """The first Ctrl-C (SIGINT) lets the current step finish, saves a checkpoint and stops training; a
    second one stops at once. Without this, Ctrl-C loses everything since the last epoch's checkpoint.

    Under torchrun / accelerate launch the launcher passes the signal on to every process, but each may get it
    during a different step; the processes agree on it after each step, so that all save and stop after the
    same one (a process stopping alone would leave the others waiting in their next gradient all-reduce)."""

    def __init__(self):
        # Two flags: the handler may run at any bytecode, also between on_step_end's reading of a flag and its
        # writing of the agreed value, so the handler's flag is one that on_step_end never writes. A Ctrl-C
        # taken during a step's agreement is agreed on after the next step.
        self.requested = False  # Ctrl-C pressed in this process (written by the handler only)
        self.interrupted = False  # every process stops after this step (written by on_step_end only)

    @contextlib.contextmanager
    def catching(self):
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            yield
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("interrupt: saving a checkpoint after this step (Ctrl-C again to stop at once)")

    def on_step_end(self, args, state, control, **kwargs):
        if agreed(self.requested, args):
            self.interrupted = True
            control.should_save = True
            control.should_training_stop = True


