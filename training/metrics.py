"""Scores from sklearn.metrics, shared by training (dev selection) and evaluation reports."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, hamming_loss


def single_label_scores(y_true, y_pred) -> dict:
    """Macro-F1 averages the gold labels (those in y_true): on articles that use some of a model's labels (an
    outlet without a culture section) it is scored on those, and an answer outside them still costs its
    article's gold label its recall. sklearn's default would also average every label predicted, so one
    stray answer of an absent label would move the figure by a whole label's share."""
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, labels=sorted(set(np.asarray(y_true).tolist())),
                                       average="macro", zero_division=0)),
            "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
            "weighted_f1": float(f1_score(y_true, y_pred, average="weighted", zero_division=0))}


def multi_label_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """y_true, y_pred: 0/1 indicator matrices (articles x labels)."""
    return {"subset_accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
            "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
            "hamming_loss": float(hamming_loss(y_true, y_pred))}


def tune_thresholds(y_true: np.ndarray, probs: np.ndarray, grid=np.arange(0.05, 0.96, 0.05)) -> np.ndarray:
    """Per label, the probability threshold that maximises that label's F1 on held-out data."""
    best = np.full(probs.shape[1], 0.5)
    for j in range(probs.shape[1]):
        scores = [f1_score(y_true[:, j], probs[:, j] >= t, zero_division=0) for t in grid]
        best[j] = float(grid[int(np.argmax(scores))])
    return best


def masked_multi_label_scores(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray,
                              labels: list[str]) -> dict:
    """Multi-label scores where only the entries with mask 1 are known (partial labels): each label is scored
    on the articles that decide it; micro-F1 pools the known entries; macro-F1 averages labels known anywhere."""
    known = mask.astype(bool)
    per_label = {lab: float(f1_score(y_true[known[:, j], j], y_pred[known[:, j], j], zero_division=0))
                 for j, lab in enumerate(labels) if known[:, j].any()}
    return {"macro_f1": float(np.mean(list(per_label.values()))) if per_label else 0.0,
            "micro_f1": float(f1_score(y_true[known], y_pred[known], zero_division=0)),
            "per_label_f1": per_label}


def tune_masked_thresholds(y_true: np.ndarray, probs: np.ndarray, mask: np.ndarray,
                           grid=np.arange(0.05, 0.96, 0.05)) -> np.ndarray:
    """tune_thresholds on the known entries of each label (0.5 where a label is never known)."""
    best = np.full(probs.shape[1], 0.5)
    for j in range(probs.shape[1]):
        rows = mask[:, j].astype(bool)
        if rows.any():
            best[j] = tune_thresholds(y_true[rows][:, [j]], probs[rows][:, [j]], grid)[0]
    return best
