"""From a model's outputs to its scores: windows aggregated per text, logits to probabilities, label
probabilities to topic scores. Shared by the classifier and what reads its outputs (explain, evaluation)."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def aggregate_windows(scores: np.ndarray, owner: np.ndarray, n_texts: int, how: str) -> np.ndarray:
    """One row per text from its windows' rows: their mean, or their element-wise max (`how`, checked with
    the settings that name it)."""
    out = np.full((n_texts, scores.shape[1]), -np.inf if how == "max" else 0.0, dtype=np.float32)
    if how == "max":
        np.maximum.at(out, owner, scores)
    else:
        np.add.at(out, owner, scores)
        out /= np.maximum(np.bincount(owner, minlength=n_texts), 1)[:, None]
    return out


def probabilities(logits: np.ndarray, multi_label: bool) -> np.ndarray:
    """Sigmoid of each logit (multi-label), or softmax over each row (single-label)."""
    logits = np.asarray(logits, dtype=np.float64)
    if multi_label:
        return (0.5 * (1.0 + np.tanh(0.5 * logits))).astype(np.float32)  # the sigmoid, without overflow
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)


def topic_scores(probs: np.ndarray, labels: Sequence[str], topics: Sequence[str], residual: str = "") -> np.ndarray:
    """Each row of label probabilities (columns: `labels`) as one score per topic (columns: `topics`, then
    `residual` when given): a topic keeps its label's probability, the residual topic scores 1 - the highest
    of them."""
    probs = np.asarray(probs)
    scores = probs[:, [list(labels).index(topic) for topic in topics]]
    return np.concatenate([scores, 1 - scores.max(1, keepdims=True)], axis=1) if residual else scores


def logit(p: np.ndarray) -> np.ndarray:
    """The inverse of the sigmoid, with probabilities kept within 1e-6 of 0 and 1."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
