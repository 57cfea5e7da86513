"""Fine-tune a topic classifier: corpus -> hygiene -> split -> Trainer -> checkpoint directory.

    arabic-topics train --data ../shared/datasets/ant-multisource-v2.1 --base e5-small --output-dir runs/ant
    python -m training.train --config recipe.yaml --max-train-samples 2000
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import datasets
import numpy as np
import torch
import yaml
from accelerate import PartialState
from datasets import DatasetDict
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                          EarlyStoppingCallback, ProgressCallback, Trainer, TrainerCallback, TrainingArguments,
                          set_seed)

from .metrics import (masked_multi_label_scores, multi_label_scores, single_label_scores, tune_masked_thresholds,
                          tune_thresholds)
from model import NormalizerConfig, TopicClassifier, TopicSettings, UserError, prepare_text
from model.bases import resolve_base
from model.scores import probabilities
from model.quiet import head_restored_after
from model.hardware import bf16_available, default_device

from .config import TrainConfig, parse_args
from .corpus import TableColumns, read_corpus
from .frozen_trunk import CachedFeatures, FrozenTrunk, cache_file_for, collate_features, trunk_features
from . import distillation, fusion, partial_labels, recipe
from .hygiene import (LabelMapping, check_labels, check_unique_ids, clean, format_leaks, format_report, ids_split,
                      random_split, remove_leaks, source_split, split_indices)
from .bundle import bundle_recipe_files
from model.card import write_model_card

log = logging.getLogger("arabic-topics")
OUR_FILES = ("training_config.yaml", "data_summary.json", "metrics.json", "README.md")


# -------------------------------------------------------------------------------------------- data
def _subsample(data, n: int | None, seed: int):
    if not n or n >= len(data):
        return data
    _, keep = split_indices(np.arange(len(data)), data["label"], n, seed)
    return data.select(sorted(keep))


def corpus_columns(config: TrainConfig) -> TableColumns:
    return TableColumns(config.text_column, config.title_column, config.label_column, config.id_column,
                        config.source_column)


def read_labelled(path: str, config: TrainConfig, mapping: LabelMapping) -> datasets.Dataset:
    """One corpus file or folder, through the recipe's reader, columns, label mapping and annotations."""
    data = read_corpus(path, config.format, corpus_columns(config))
    data = mapping.apply(data)
    if config.annotations or mapping.none:  # partial multi-label: see partial_labels.py
        annotations = partial_labels.read_annotations(config.annotations.split(",")) if config.annotations else None
        data = partial_labels.attach(data, mapping.targets, annotations)
    return data


def test_fraction(config: TrainConfig) -> float:
    """--test-size, by default 0.1 of --data, or none of it when an official dev file is given (its user scores
    an official test file; carving a test split out of training would only cost training articles)."""
    if config.test_data:
        return 0.0
    if config.test_size is not None:
        return config.test_size
    return 0.0 if config.dev_data else 0.1


def load_splits(config: TrainConfig) -> tuple[DatasetDict, dict]:
    mapping = LabelMapping.from_yaml(config.label_map) if config.label_map else LabelMapping()
    data = read_labelled(config.data, config, mapping)
    data, report = clean(data, config.conflicts)
    check_unique_ids(data, config.data)
    log.info(format_report(report))
    given = {name: read_labelled(path, config, mapping) for name, path in (("dev", config.dev_data),
                                                                   ("test", config.test_data)) if path}
    for name, part in given.items():  # kept whole, so their ids must be unique as they are
        check_unique_ids(part, getattr(config, f"{name}_data"))
    if given:
        data, report["official_files"] = remove_leaks(data, given)
        log.info(format_leaks(report["official_files"]))
    if config.split == "source":
        splits = source_split(data, config.test_sources.split(","), config.dev_size, config.seed)
    elif config.split == "ids":
        splits = ids_split(data, partial_labels.read_ids(config.test_ids), config.dev_size, config.seed)
    else:
        fixed = partial_labels.read_ids(config.test_ids) if config.test_ids else None
        dev_size = 0.0 if config.dev_data else config.dev_size
        splits = random_split(data, dev_size, test_fraction(config), config.seed, fixed)
    splits.update(given)
    splits["train"] = _subsample(splits["train"], config.max_train_samples, config.seed)
    for name in ("dev", "test"):
        splits[name] = _subsample(splits[name], config.max_eval_samples, config.seed)
    if len(splits["train"]) == 0:
        raise UserError("the split left no training articles; use more data or smaller dev/test sizes")
    check_labels(splits, config.label_column if Path(config.data).is_file() else None)
    if config.pseudo_labels_from:
        teacher = TopicClassifier.from_pretrained(config.pseudo_labels_from)
        splits["train"] = partial_labels.pseudo_label(splits["train"], teacher)
    summary = {
        "corpus": str(config.data),
        "dedup": report,
        "split": {"kind": config.split, "seed": config.seed, "test_sources": config.test_sources,
                  **{name: len(part) for name, part in splits.items()}},
        **split_counts(splits),
        "display_names": mapping.display_names,
    }
    summary.update({f"{name}_file": str(path) for name, path in (("dev", config.dev_data), ("test", config.test_data))
                    if path})
    return splits, summary


def split_counts(splits: DatasetDict) -> dict:
    """What data_summary.json counts per split: articles (under "split"), labels (and known labels), outlets."""
    counts = {"label_counts": {name: _label_counts(part["label"]) for name, part in splits.items()},
              "sources": {name: dict(Counter(part["source"])) for name, part in splits.items()}}
    if "known" in splits["train"].column_names:
        counts["known_counts"] = {name: _label_counts(part["known"]) for name, part in splits.items()}
    return counts


def _label_counts(labels) -> dict:
    flat = [x for lab in labels for x in (lab if isinstance(lab, list) else [lab])]
    return dict(sorted(Counter(flat).items()))


def label_set(splits: DatasetDict, summary: dict) -> tuple[list[str], bool, bool]:
    """The labels to train, whether an article can carry several (multi-label), and whether only some of
    them are known for each article (partial labels, see partial_labels.py)."""
    multi_label = isinstance(splits["train"][0]["label"], list)
    partial = "known" in splits["train"].column_names
    return sorted(summary["known_counts" if partial else "label_counts"]["train"]), multi_label, partial


def topic_settings(config: TrainConfig, prefix: str, multi_label: bool, summary: dict) -> TopicSettings:
    return TopicSettings(normalizer=NormalizerConfig(), text_prefix=prefix, max_length=config.max_length,
                         multi_label=multi_label, display_names=summary["display_names"],
                         max_windows=config.max_windows, window_overlap=config.window_overlap,
                         aggregate=config.aggregate, title_in_every_window=config.title_in_every_window,
                         backend=config.backend or "")


def encode_splits(splits: DatasetDict, tokenizer, settings: TopicSettings, labels: list[str],
                  use_title: bool) -> DatasetDict:
    """Token ids and training targets of every split: a label index (single-label), a 0/1 row over `labels`
    (multi-label), and with partial labels also the row of which entries are known."""
    partial = "known" in splits["train"].column_names
    label_ids = {lab: i for i, lab in enumerate(labels)}

    def encode(batch):
        titles = batch["title"] if use_title else [None] * len(batch["text"])
        texts = [prepare_text(t, ti, settings) for t, ti in zip(batch["text"], titles)]
        enc = tokenizer(texts, truncation=True, max_length=settings.max_length)
        if partial:
            enc["labels"], enc["label_mask"] = partial_labels.label_matrices(batch["label"], batch["known"], labels)
        elif settings.multi_label:
            enc["labels"] = [[float(lab in set(labs)) for lab in labels] for labs in batch["label"]]
        else:  # a dev/test label unseen in training cannot be scored against: -100 is ignored by the loss
            enc["labels"] = [label_ids.get(lab, -100) for lab in batch["label"]]
        return enc

    return splits.map(encode, batched=True, remove_columns=splits["train"].column_names, desc="tokenising")


# ------------------------------------------------------------------------------------------- model
def build_model(config: TrainConfig, labels: list[str], multi_label: bool):
    base_path, prefix = resolve_base(config.base)
    try:
        tokenizer = AutoTokenizer.from_pretrained(base_path)
        # A base encoder has no classification head: transformers' load report of it ("MISSING ... newly
        # initialized") describes what training is about to do, so it is replaced by a check of our own that
        # only the head was missing.
        with head_restored_after():
            model, info = AutoModelForSequenceClassification.from_pretrained(
                base_path, num_labels=len(labels), id2label=dict(enumerate(labels)),
                label2id={lab: i for i, lab in enumerate(labels)}, output_loading_info=True,
                **({"num_hidden_layers": config.num_layers} if config.num_layers else {}),
                problem_type="multi_label_classification" if multi_label else "single_label_classification")
    except OSError as exc:
        raise UserError(f"cannot load base encoder {config.base!r}: {str(exc).splitlines()[0]}") from None
    head = {name for name, _ in model.named_parameters() if not name.startswith(model.base_model_prefix + ".")}
    unexpected = sorted(set(info.get("missing_keys", ())) - head)
    if unexpected:
        log.warning("base encoder %s lacks %d weight(s) outside the classification head, initialised at random "
                    "(e.g. %s)", config.base, len(unexpected), unexpected[0])
    if config.freeze_layers is not None:  # unset: chosen by resolve_recipe, which then freezes
        freeze(model, config)
    return model, tokenizer, prefix, base_path


def resolve_recipe(config: TrainConfig, splits: DatasetDict, tokenizer, model, prefix: str,
                   bf16: bool, spent_seconds: float = 0.0) -> tuple[TrainConfig, dict]:
    """Fill the settings left unset from the training articles and this machine (training/recipe.py), to fit
    what `spent_seconds` left of the time budget; print the choice with its time estimate, and freeze the model
    as chosen."""
    probe = TopicSettings(normalizer=NormalizerConfig(), text_prefix=prefix)
    train_part = splits["train"]
    titles = train_part["title"] if config.use_title else [None] * len(train_part)
    texts = [prepare_text(t, ti, probe) for t, ti in zip(train_part["text"], titles)]
    config, chosen = recipe.choose(config, list(train_part["label"]), texts,
                                   sum(len(part) for part in splits.values()), len(splits["dev"]), tokenizer, model,
                                   bf16, len(splits["test"]), spent_seconds)
    log.info(recipe.describe(chosen))
    freeze(model, config)
    return config, chosen


def freeze(model, config: TrainConfig) -> None:
    """Freeze the word-embedding matrix (96M of e5-small's 118M parameters; ~5x step time on CPU to train)
    and optionally the lower encoder layers."""
    on_cpu = default_device().type == "cpu"
    embeddings = model.base_model.embeddings
    if config.freeze_embeddings if config.freeze_embeddings is not None else on_cpu:
        embeddings.word_embeddings.weight.requires_grad_(False)
    if config.freeze_layers:
        embeddings.requires_grad_(False)
        for layer in model.base_model.encoder.layer[: config.freeze_layers]:
            layer.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    log.info("trainable parameters: %.1fM of %.1fM", trainable / 1e6, total / 1e6)


def resolve_bf16(config: TrainConfig) -> bool:
    """The recipe's bf16 setting; unset, bf16 wherever the device runs it natively."""
    return config.bf16 if config.bf16 is not None else bf16_available(default_device())


def optimisation(config: TrainConfig, bf16: bool) -> dict:
    """The TrainingArguments every run of a recipe shares (train, and both arms of benchmark-train):
    optimiser, schedule, batch sizes, precision, seeds, device."""
    return dict(learning_rate=config.learning_rate, per_device_train_batch_size=config.batch_size,
                per_device_eval_batch_size=config.eval_batch_size, weight_decay=config.weight_decay,
                warmup_steps=config.warmup_ratio, lr_scheduler_type="linear", bf16=bf16, seed=config.seed,
                data_seed=config.seed, report_to="none", use_cpu=not torch.cuda.is_available(),
                dataloader_num_workers=0)


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
        self.interrupted = False

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
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        log.warning("interrupt: saving a checkpoint after this step (Ctrl-C again to stop at once)")

    def on_step_end(self, args, state, control, **kwargs):
        self.interrupted = agreed(self.interrupted, args)
        if self.interrupted:
            control.should_save = True
            control.should_training_stop = True


# -------------------------------------------------------------------------------------------- main
def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest checkpoint whose save finished. The Trainer writes trainer_state.json last, so a run killed
    while saving leaves a checkpoint-N without it (or with it cut short), which resuming must skip."""
    found = [(int(p.name.split("-")[1]), p) for p in folder.glob("checkpoint-*")
             if p.is_dir() and p.name.split("-")[1].isdigit()] if folder.is_dir() else []
    for _, path in sorted(found, reverse=True):
        try:
            json.loads((path / "trainer_state.json").read_text())
            return str(path)
        except (OSError, ValueError):
            log.warning("skipping incomplete checkpoint %s", path)
    return None


def check_output_dir(config: TrainConfig, clear: bool = True) -> Path:
    """Refuse to replace a finished or unfinished run unless asked; with `clear` (one process of a
    distributed run), remove the checkpoints of a run being overwritten."""
    out = Path(config.output_dir)
    finished = (out / "config.json").exists()
    in_progress = last_complete_checkpoint(out / "checkpoints")
    if config.resume and not in_progress:
        raise UserError(f"--resume: no checkpoint to resume in {out / 'checkpoints'}")
    if finished and not (config.overwrite or config.resume):
        raise UserError(f"{out} already holds a trained model; pass --overwrite to replace it")
    if in_progress and not (config.resume or config.overwrite):
        raise UserError(f"{out} holds an unfinished run ({Path(in_progress).name}); pass --resume to continue "
                        "it or --overwrite to start again")
    if clear and config.overwrite and not config.resume and (out / "checkpoints").is_dir():
        shutil.rmtree(out / "checkpoints")
    return out


def train(config: TrainConfig) -> Path:
    started = time.monotonic()  # --time-budget counts from here
    # One process, or one of several started by torchrun / accelerate launch (docs/distributed-training.md):
    # every process reads the data and trains its share of each batch; the main one alone writes files.
    processes = PartialState(cpu=not torch.cuda.is_available())
    if not processes.is_main_process:
        quiet_replica()
    with processes.main_process_first():  # the others look at the folder once the main one has cleared it
        out = check_output_dir(config, clear=processes.is_main_process)
    set_seed(config.seed)
    splits, summary = load_splits(config)
    if len(splits["dev"]) == 0:
        raise UserError("training needs a dev split (for model selection); raise --dev-size")
    labels, multi_label, partial = label_set(splits, summary)
    model, tokenizer, prefix, base_path = build_model(config, labels, multi_label)
    use_bf16 = resolve_bf16(config)
    # the baseline first, so that the recipe plans what is left of the time budget after it
    baseline = baseline_beside(splits, labels, multi_label, partial)
    config, chosen = resolve_recipe(config, splits, tokenizer, model, prefix, use_bf16, time.monotonic() - started)
    if config.max_train_samples and config.max_train_samples < len(splits["train"]):  # cut to fit the budget
        splits["train"] = _subsample(splits["train"], config.max_train_samples, config.seed)
        summary["split"]["train"] = len(splits["train"])
        summary.update(split_counts(splits))
        baseline = baseline_beside(splits, labels, multi_label, partial)  # on the same training articles
    settings = topic_settings(config, prefix, multi_label, summary)
    encoded = encode_splits(splits, tokenizer, settings, labels, config.use_title)
    weights = class_weights(config, encoded["train"], len(labels), multi_label)
    distilled = distill(config, splits["train"], encoded, labels, multi_label) if config.distill_from else None
    inputs = trainer_inputs(model, tokenizer, encoded, config.freeze_layers, base_path, use_bf16,
                            config.feature_cache, processes)
    per_epoch = config.eval_every is None
    args = TrainingArguments(
        output_dir=str(out / "checkpoints"), num_train_epochs=config.epochs, **optimisation(config, use_bf16),
        eval_strategy="epoch" if per_epoch else "steps", save_strategy="epoch" if per_epoch else "steps",
        eval_steps=config.eval_every, save_steps=config.eval_every, logging_steps=10,
        load_best_model_at_end=True, metric_for_best_model="macro_f1", greater_is_better=True,
        save_total_limit=2, train_sampling_strategy=inputs.sampling,
        label_names=["labels", "label_mask"] if partial else ["labels"],
        # Distributed runs. Our losses are means over a process's batch, and DDP averages the gradients, so
        # together they are the mean over the whole batch; the Trainer's token averaging would multiply the
        # loss (and gradients) by the number of processes, as it expects a loss divided by all processes'
        # tokens. And every trainable parameter takes part in each step (frozen ones are not synchronised at
        # all), so DDP's per-step search for unused ones would be wasted work.
        average_tokens_across_devices=False, ddp_find_unused_parameters=False)
    interrupt = StopOnInterrupt()
    budget = config.time_budget * 60
    deadline = Deadline(started + budget, chosen["estimate_dev_seconds"], len(encoded["test"]) / len(encoded["dev"]),
                        end_seconds=0.02 * budget)  # the blend's fit, the model card
    callbacks = [interrupt, deadline] + ([EarlyStoppingCallback(config.early_stopping_patience)]
                               if config.early_stopping_patience else [])
    trainer = TopicTrainer(model=inputs.model, args=args, train_dataset=inputs.data["train"],
                           eval_dataset=inputs.data["dev"], data_collator=inputs.collator,
                           compute_metrics=scorer(labels, multi_label, partial), callbacks=callbacks,
                           class_weights=weights, soft_targets=bool(distilled) and not multi_label)
    if trainer.pop_callback(ProgressCallback) is not None:  # present unless the bars are switched off
        trainer.add_callback(ReadableProgress())
    with interrupt.catching():
        trainer.train(resume_from_checkpoint=last_complete_checkpoint(out / "checkpoints") if config.resume else None)
    if interrupt.interrupted:
        raise TrainingInterrupted(f"interrupted at step {trainer.state.global_step}; checkpoint saved in "
                                  f"{out / 'checkpoints'}; continue with the same command and --resume")

    if deadline.reached:
        log.warning("time budget: training stopped at step %d of %d to end within --time-budget %g min; the best "
                    "checkpoint so far is kept", trainer.state.global_step, trainer.state.max_steps,
                    config.time_budget)
    metrics = {"recipe": chosen, **({"distillation": distilled} if distilled else {})}
    dev_out = trainer.predict(inputs.data["dev"], metric_key_prefix="dev")
    test_out = trainer.predict(inputs.data["test"], metric_key_prefix="test") if len(encoded["test"]) else None
    if multi_label:
        probs = probabilities(dev_out.predictions, multi_label=True)
        if partial:
            gold, mask = dev_out.label_ids
            tuned = tune_masked_thresholds(gold.astype(int), probs, mask)
        else:
            tuned = tune_thresholds(dev_out.label_ids.astype(int), probs)
        settings.thresholds = dict(zip(labels, map(float, tuned)))
    metrics["dev"] = _scores(dev_out, multi_label, settings, labels)
    if test_out is not None:
        metrics["test"] = _scores(test_out, multi_label, settings, labels)
    metrics["baseline"], tfidf, decisions = baseline
    blended = None
    if tfidf is not None and not partial and config.fusion is not False:
        blended = blend_with_tfidf(config, labels, multi_label, tfidf, decisions, dev_out, test_out, settings,
                                   metrics)
    # the epoch whose model was kept (its checkpoint folder is removed once the model is saved)
    metrics["best_epoch"] = best_epoch(trainer.state)
    # the effective batch is batch_size x processes: a run is only reproduced with the same number of them
    metrics["training"] = {"processes": processes.num_processes, "steps": trainer.state.global_step,
                           "batch_size": config.batch_size * processes.num_processes}
    metrics["evaluations"] = [{"epoch": e["epoch"], "step": e["step"], "dev_macro_f1": e["eval_macro_f1"]}
                              for e in trainer.state.log_history if "eval_macro_f1" in e]
    metrics["time"] = {"budget_seconds": budget, "stopped_by_budget": deadline.reached,
                       "planned_steps": trainer.state.max_steps}
    model = inputs.trunk.reattach() if inputs.trunk else trainer.model
    classifier = TopicClassifier(model.float(), tokenizer, settings, tfidf=blended)
    metrics["time"]["elapsed_seconds"] = round(time.monotonic() - started, 1)  # all but the save below
    if processes.is_main_process:
        save_final(out, classifier, config, summary, metrics)
    processes.wait_for_everyone()  # no process returns before the model is in place
    for line in compare_with_baseline(metrics):
        log.info(line) if not line.startswith("warning") else log.warning(line)
    log.info("model saved to %s after %.1f min (--time-budget %g)", out, (time.monotonic() - started) / 60,
             config.time_budget)
    return out


def quiet_replica() -> None:
    """The other processes of a distributed run repeat the main one's work: only their warnings are shown."""
    log.setLevel(logging.WARNING)
    datasets.disable_progress_bars()


def _scores(output, multi_label: bool, settings: TopicSettings, labels: list[str]) -> dict:
    gold, logits = output.label_ids, output.predictions
    if multi_label:
        predicted = (probabilities(logits, multi_label=True) >= settings.threshold_vector(labels)).astype(int)
        if isinstance(gold, tuple):  # partial labels: (targets, known mask)
            return masked_multi_label_scores(gold[0].astype(int), predicted, gold[1], labels)
        return multi_label_scores(gold.astype(int), predicted)
    keep = gold != -100
    return single_label_scores(gold[keep], logits.argmax(-1)[keep])


def best_epoch(state) -> float | None:
    """The epoch of the best dev macro-F1 among the evaluations (the model that was kept)."""
    scored = [entry for entry in state.log_history if "eval_macro_f1" in entry]
    return max(scored, key=lambda entry: entry["eval_macro_f1"])["epoch"] if scored else None


def baseline_beside(splits: DatasetDict, labels: list[str], multi_label: bool,
                    partial: bool) -> tuple[dict, object, dict]:
    """TF-IDF + LinearSVC trained on the same training articles and scored on the same dev/test (seconds), so
    every run says whether the transformer earned its cost. With partial labels it learns from the training
    articles whose every label is known and is scored on the known entries, as the model is. Returns the
    scores, the fitted model and its decision scores on dev and test (which the blend reuses)."""
    from model.tfidf import TfidfBaseline, baseline_texts

    train_part = splits["train"]
    if partial:
        everything = set(labels)
        train_part = train_part.filter(lambda r: everything <= set(r["known"]))
        if len({lab for row in train_part["label"] for lab in row}) < 2:
            return {"skipped": "fewer than two labels among the fully annotated training articles"}, None, {}
    started = time.perf_counter()
    fitted = TfidfBaseline().fit(baseline_texts(train_part), list(train_part["label"]))
    result = {"model": "TF-IDF char_wb 2-5-grams + LinearSVC (title + body)", "train_articles": len(train_part)}
    decisions = {name: fitted.decision_function(baseline_texts(splits[name])) for name in ("dev", "test")
                 if len(splits[name])}
    for name, decision in decisions.items():
        part = splits[name]
        predicted = fitted.decide(decision)
        if not multi_label:
            result[name] = single_label_scores(list(part["label"]), predicted)
            continue
        as_rows = lambda rows: np.array([[lab in set(row) for lab in labels] for row in rows], dtype=int)  # noqa
        if partial:
            gold, known = partial_labels.label_matrices(part["label"], part["known"], labels)
            scores = masked_multi_label_scores(np.array(gold, dtype=int), as_rows(predicted),
                                               np.array(known, dtype=int), labels)
            result[name] = {k: v for k, v in scores.items() if k != "per_label_f1"}
        else:
            result[name] = multi_label_scores(as_rows(part["label"]), as_rows(predicted))
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result, fitted, decisions


def blend_with_tfidf(config: TrainConfig, labels: list[str], multi_label: bool, tfidf, decisions: dict,
                     dev_out, test_out, settings: TopicSettings, metrics: dict):
    """Fit the blend of the model with the TF-IDF baseline on dev, its gain confirmed by cross-validation there
    (training/fusion.py). Adopted, it goes into the settings (and the multi-label thresholds are tuned again for
    it), the scores become the blend's, and the transformer's own are kept as metrics["transformer_alone"].
    Returns the TF-IDF model to save, or None."""
    from model.tfidf import fuse

    if not set(labels) <= set(tfidf.labels):
        return None
    columns = [tfidf.labels.index(lab) for lab in labels]
    scores = {name: decision[:, columns] for name, decision in decisions.items()}
    gold = dev_out.label_ids.astype(int)
    result = fusion.fit(dev_out.predictions, scores["dev"], gold, multi_label, config.fusion)
    metrics["fusion"] = result
    log.info("blend with the TF-IDF model: %s; fitted on all of dev, weight %.2f, temperature %g: %s",
             describe_blend(result), result["weight"], result["temperature"], "adopted" if result["adopted"] else
             f"not adopted (confirmed gain under {fusion.MIN_GAIN * 100:g} point)")
    if not result["adopted"]:
        return None
    settings.fusion = {"weight": result["weight"], "temperature": result["temperature"]}
    blended = {name: fuse(out.predictions, scores[name], settings.fusion, multi_label)
               for name, out in (("dev", dev_out), ("test", test_out)) if out is not None}
    if multi_label:
        _, thresholds = fusion.dev_score(blended["dev"], gold, multi_label)
        settings.thresholds = dict(zip(labels, map(float, thresholds)))
    metrics["transformer_alone"] = {name: metrics[name] for name in ("dev", "test") if name in metrics}
    for name, out in (("dev", dev_out), ("test", test_out)):
        if out is not None:
            metrics[name] = _scores(out._replace(predictions=blended[name]), multi_label, settings, labels)
    return tfidf


def describe_blend(result: dict) -> str:
    """The blend's confirmed gain: dev macro-F1, each article decided by what was chosen on the other folds."""
    checked = result["cross_validated"]
    if checked is None:
        return "too few dev articles to confirm a gain"
    return (f"cross-validated dev macro-F1 {checked['alone']:.4f} alone, {checked['blend']:.4f} blended "
            f"({100 * result['confirmed_gain']:+.1f} points confirmed over {checked['folds']} folds; "
            f"{100 * (result['dev_macro_f1'] - result['alone_dev_macro_f1']):+.1f} on the articles that chose it)")


def compare_with_baseline(metrics: dict) -> list[str]:
    """The model's macro-F1 beside the baseline's on each split, and a warning line where the model is below."""
    lines = []
    for name in ("dev", "test"):
        if name not in metrics:
            continue
        ours, line = metrics[name]["macro_f1"], f"{name}: macro-F1 {metrics[name]['macro_f1']:.4f}"
        if name in metrics.get("transformer_alone", {}):
            line += f" (blended; transformer alone {metrics['transformer_alone'][name]['macro_f1']:.4f})"
        theirs = metrics["baseline"].get(name, {}).get("macro_f1")
        if theirs is not None:
            line += f" | TF-IDF baseline {theirs:.4f} ({100 * (ours - theirs):+.1f} points)"
        lines.append(line)
        if theirs is not None and ours < theirs:
            lines.append(f"warning: on {name} the model is below the TF-IDF baseline trained on the same articles "
                         f"({ours:.4f} < {theirs:.4f}); `arabic-topics baseline` saves that baseline as a model")
    return lines


def save_final(out: Path, classifier: TopicClassifier, config: TrainConfig, summary: dict, metrics: dict) -> None:
    """Write the checkpoint into a staging folder, then move it into place, so an interrupted save never
    leaves a half-written model where a finished one is expected."""
    staging = out / ".saving"
    shutil.rmtree(staging, ignore_errors=True)
    classifier.save_pretrained(staging)
    (staging / "training_config.yaml").write_text(yaml.safe_dump(bundle_recipe_files(config.to_dict(), staging),
                                                                 allow_unicode=True,
                                                                 sort_keys=False))
    (staging / "data_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    (staging / "metrics.json").write_text(json.dumps(metrics, indent=2))
    write_model_card(staging, config, summary, metrics, classifier)
    # config.json is what marks a directory as a finished model, so it moves last: a crash between two
    # renames leaves an unfinished directory that no loader mistakes for a model.
    for item in sorted(staging.iterdir(), key=lambda item: item.name == "config.json"):
        os.replace(item, out / item.name)
    staging.rmdir()
    # The finished model is in place; the intermediate checkpoints (~1 GB each for e5-small) are not needed.
    shutil.rmtree(out / "checkpoints", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = parse_args(argv)
    train(config)
    return 0


if __name__ == "__main__":
    from model.errors import run_guarded

    sys.exit(run_guarded(main))
