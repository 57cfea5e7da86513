"""Blend the TF-IDF baseline that every run trains beside the model into the model, where it pays on dev.

A fine-tuned encoder and character n-grams err on different articles: on short posts with rare labels the
blend of the two gained where neither alone did (docs/recipe-check.md). The weight and the temperature of the
TF-IDF scores are fitted on dev macro-F1; the blend is adopted only when it gains at least MIN_GAIN there over
the transformer alone (`--fusion true` adopts the fitted blend whatever it gains, `--fusion false` never
blends). The saved model then carries the TF-IDF model in tfidf/ and applies the blend in predict
(model/tfidf.py fuse), so predictions, evaluations and the scores training reports are the blend's.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from .metrics import multi_label_scores, single_label_scores, tune_thresholds
from model.tfidf import fuse

WEIGHTS = np.round(np.arange(0.0, 1.0001, 0.05), 2)  # weight of the transformer; 1.0 = the transformer alone
TEMPERATURES = (0.5, 1.0, 2.0, 4.0)  # LinearSVC margins are not log-odds: their scale is fitted too
MIN_GAIN = 0.01  # dev macro-F1 the blend must gain to be adopted (dev is small; a smaller gain is noise)


def dev_score(logits: np.ndarray, gold: np.ndarray, multi_label: bool) -> tuple[float, np.ndarray | None]:
    """Dev macro-F1 of fused logits, and for a multi-label model the per-label thresholds tuned for them."""
    if multi_label:
        probs = expit(logits)
        thresholds = tune_thresholds(gold, probs)
        return multi_label_scores(gold, (probs >= thresholds).astype(int))["macro_f1"], thresholds
    keep = gold != -100
    return single_label_scores(gold[keep], logits.argmax(1)[keep])["macro_f1"], None


def fit(logits: np.ndarray, scores: np.ndarray, gold: np.ndarray, multi_label: bool, mode: bool | None) -> dict:
    """The best blend on dev: {"weight", "temperature", "dev_macro_f1", "alone_dev_macro_f1", "adopted",
    "thresholds" (multi-label)}. gold: label indices (-100 for a label training never saw) or a 0/1 matrix."""
    alone, _ = dev_score(logits, gold, multi_label)
    best = {"weight": 1.0, "temperature": 1.0, "dev_macro_f1": alone}
    for temperature in TEMPERATURES:
        for weight in WEIGHTS[:-1]:
            blend = {"weight": float(weight), "temperature": temperature}
            score, _ = dev_score(fuse(logits, scores, blend, multi_label), gold, multi_label)
            if score > best["dev_macro_f1"]:
                best = {**blend, "dev_macro_f1": score}
    adopted = mode is not False and best["weight"] < 1.0 and (mode or best["dev_macro_f1"] - alone >= MIN_GAIN)
    return {**best, "alone_dev_macro_f1": alone, "adopted": bool(adopted), "min_gain": MIN_GAIN}
