"""The data phase of training: the corpus read and cleaned, split, its labels found, and tokenised for the
Trainer (training/train.py runs the phases in order)."""
from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import datasets
import numpy as np
from datasets import DatasetDict

from model import NormalizerConfig, TopicSettings, UserError, prepare_text
from model.classifier import load_companion

from .config import TrainConfig
from .corpus import TableColumns, read_corpus
from . import partial_labels
from .hygiene import (LabelMapping, check_labels, check_unique_ids, clean, format_leaks, format_report, ids_split,
                      random_split, remove_leaks, source_split, split_indices)

log = logging.getLogger("arabic-topics")


def subsample(data, n: int | None, seed: int):
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
    splits["train"] = subsample(splits["train"], config.max_train_samples, config.seed)
    for name in ("dev", "test"):
        splits[name] = subsample(splits[name], config.max_eval_samples, config.seed)
    if len(splits["train"]) == 0:
        raise UserError("the split left no training articles; use more data or smaller dev/test sizes")
    check_labels(splits, config.label_column if Path(config.data).is_file() else None)
    if config.pseudo_labels_from:
        teacher = load_companion(config.pseudo_labels_from, f"--pseudo-labels-from {config.pseudo_labels_from}",
                                 multi_label=True)
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
    """The settings the saved model reads with: its window is the read length where one is given."""
    return TopicSettings(normalizer=NormalizerConfig(), text_prefix=prefix,
                         max_length=config.read_length or config.max_length,
                         multi_label=multi_label, display_names=summary["display_names"],
                         max_windows=config.max_windows, window_overlap=config.window_overlap,
                         aggregate=config.aggregate, title_in_every_window=config.title_in_every_window,
                         backend=config.backend or "")


def encode_splits(splits: DatasetDict, tokenizer, settings: TopicSettings, labels: list[str],
                  use_title: bool, train_length: int | None = None) -> DatasetDict:
    """Token ids and training targets of every split: a label index (single-label), a 0/1 row over `labels`
    (multi-label), and with partial labels also the row of which entries are known. Training articles are cut
    at `train_length` (default: the settings' window, as dev and test are)."""
    partial = "known" in splits["train"].column_names
    label_ids = {lab: i for i, lab in enumerate(labels)}

    def encode(batch, length: int):
        titles = batch["title"] if use_title else [None] * len(batch["text"])
        texts = [prepare_text(t, ti, settings) for t, ti in zip(batch["text"], titles)]
        enc = tokenizer(texts, truncation=True, max_length=length)
        if partial:
            enc["labels"], enc["label_mask"] = partial_labels.label_matrices(batch["label"], batch["known"], labels)
        elif settings.multi_label:
            enc["labels"] = [[float(lab in set(labs)) for lab in labels] for labs in batch["label"]]
        else:  # a dev/test label unseen in training cannot be scored against: -100 is ignored by the loss
            enc["labels"] = [label_ids.get(lab, -100) for lab in batch["label"]]
        return enc

    columns = splits["train"].column_names
    return DatasetDict({name: part.map(encode, batched=True, remove_columns=columns, desc="tokenising",
                                       fn_kwargs={"length": train_length if name == "train" and train_length
                                                  else settings.max_length})
                        for name, part in splits.items()})


