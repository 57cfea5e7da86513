"""Knowledge distillation: train on a mix of the gold labels and a teacher model's probabilities.

    arabic-topics train --data CORPUS --num-layers 4 --distill-from runs/big-model --output-dir runs/small

The probabilities of a larger teacher say how close an article is to every other label, which hard labels do
not. The targets of each training article become (1 - weight) x its gold labels + weight x the teacher's
probabilities: a distribution over the labels for a single-label model (cross-entropy with probability
targets), a probability per label for a multi-label one (binary cross-entropy). With partial labels, the
entries the data leaves unknown take the teacher's probabilities alone and are no longer masked. Measured on
ANT (docs/default-model.md#held-out-outlets): a 4-layer student of the 12-layer shape gains about a dev point
in-domain, and nothing on an outlet neither trained on.
"""
from __future__ import annotations

import datasets
import numpy as np

from model.classifier import load_companion


def teacher_probabilities(teacher_dir: str, data: datasets.Dataset, labels: list[str], multi_label: bool,
                          use_title: bool) -> np.ndarray:
    """The teacher's probabilities for every article of `data`, columns in the order of `labels`."""
    # a single-label teacher's probabilities sum to 1 over its own labels, so they must be the student's labels
    teacher = load_companion(teacher_dir, f"--distill-from {teacher_dir}", multi_label=multi_label, labels=labels,
                             same_labels=not multi_label)
    titles = list(data["title"]) if use_title else None
    probs = teacher.predict_proba(list(data["text"]), titles)
    return probs[:, [teacher.labels.index(label) for label in labels]]


def soft_targets(encoded: datasets.Dataset, probs: np.ndarray, weight: float, n_labels: int) -> datasets.Dataset:
    """`encoded` (one split after tokenising) with its `labels` replaced by the mixed targets, and with partial
    labels its `label_mask` set to all known."""
    labels = encoded["labels"]
    if isinstance(labels[0], list):  # multi-label: a 0/1 row per article
        gold = np.asarray(labels, dtype=np.float32)
    else:
        gold = np.eye(n_labels, dtype=np.float32)[np.asarray(labels)]
    mixed = (1 - weight) * gold + weight * probs
    columns = ["labels"]
    if "label_mask" in encoded.column_names:  # unknown entries: the teacher alone
        known = np.asarray(encoded["label_mask"], dtype=np.float32)
        mixed = known * mixed + (1 - known) * probs
        columns.append("label_mask")
    encoded = encoded.remove_columns(columns).add_column("labels", mixed.astype(np.float32).tolist())
    if "label_mask" in columns:
        encoded = encoded.add_column("label_mask", np.ones_like(mixed).tolist())
    return encoded


def agreement(probs: np.ndarray, encoded: datasets.Dataset, multi_label: bool) -> float:
    """Share of the training articles whose gold label is the teacher's top one (single-label), or share of
    the known label entries the teacher decides as the gold does at 0.5 (multi-label)."""
    labels = encoded["labels"]
    if not multi_label:
        return float(np.mean(probs.argmax(1) == np.asarray(labels)))
    gold = np.asarray(labels)
    known = np.asarray(encoded["label_mask"]) if "label_mask" in encoded.column_names else np.ones_like(gold)
    return float(((probs >= 0.5) == (gold >= 0.5))[known > 0].mean())
