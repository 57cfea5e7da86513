"""Blend the TF-IDF baseline that every run trains beside the model into the model, where it pays on dev.

A fine-tuned encoder and character n-grams err on different articles: on short posts with rare labels the
blend of the two gained where neither alone did (docs/recipe-check.md). The weight and the temperature of the
TF-IDF scores are chosen among about 80 settings on dev macro-F1, and a gain found that way flatters the blend:
the best of 80 tries on the articles that pick it. So the gain is confirmed by cross-validation on dev: each
fold's articles are decided by the blend (and, multi-label, the thresholds) chosen on the other folds, and the
blend is adopted only when those out-of-fold decisions gain at least MIN_GAIN over the transformer's, decided
the same way (`--fusion true` adopts the fitted blend whatever it gains, `--fusion false` never blends). The
blend saved is the one chosen on all of dev. The saved model then carries the TF-IDF model in tfidf/ and
applies the blend in predict (model/tfidf.py fuse), so predictions, evaluations and the scores training
reports are the blend's.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from .metrics import multi_label_scores, single_label_scores, tune_thresholds
from model.tfidf import fuse

WEIGHTS = np.round(np.arange(0.0, 1.0001, 0.05), 2)  # weight of the transformer; 1.0 = the transformer alone
TEMPERATURES = (0.5, 1.0, 2.0, 4.0)  # LinearSVC margins are not log-odds: their scale is fitted too
MIN_GAIN = 0.01  # cross-validated dev macro-F1 the blend must gain to be adopted (a smaller gain is noise)
FOLDS = 5
ALONE = {"weight": 1.0, "temperature": 1.0}


def dev_score(logits: np.ndarray, gold: np.ndarray, multi_label: bool) -> tuple[float, np.ndarray | None]:
    """Dev macro-F1 of fused logits, and for a multi-label model the per-label thresholds tuned for them."""
    if multi_label:
        thresholds = tune_thresholds(gold, expit(logits))
        return macro_f1(gold, decide(logits, thresholds), True), thresholds
    return macro_f1(gold, decide(logits, None), False), None


def decide(logits: np.ndarray, thresholds: np.ndarray | None) -> np.ndarray:
    """Label indices (single-label), or a 0/1 matrix of the labels passing their thresholds (multi-label)."""
    return logits.argmax(1) if thresholds is None else (expit(logits) >= thresholds).astype(int)


def macro_f1(gold: np.ndarray, decided: np.ndarray, multi_label: bool) -> float:
    if multi_label:
        return multi_label_scores(gold, decided)["macro_f1"]
    keep = gold != -100
    return single_label_scores(gold[keep], decided[keep])["macro_f1"]


def best_blend(logits: np.ndarray, scores: np.ndarray, gold: np.ndarray, multi_label: bool) -> dict:
    """The setting of highest macro-F1 on these articles ({"weight", "temperature", "dev_macro_f1"}); the
    transformer alone (weight 1) unless a blend beats it."""
    best = {**ALONE, "dev_macro_f1": dev_score(logits, gold, multi_label)[0]}
    for temperature in TEMPERATURES:
        for weight in WEIGHTS[:-1]:
            blend = {"weight": float(weight), "temperature": temperature}
            score, _ = dev_score(fuse(logits, scores, blend, multi_label), gold, multi_label)
            if score > best["dev_macro_f1"]:
                best = {**blend, "dev_macro_f1": score}
    return best


def cross_validated(logits: np.ndarray, scores: np.ndarray, gold: np.ndarray, multi_label: bool,
                    folds: int = FOLDS, seed: int = 0) -> dict | None:
    """Dev macro-F1 of the transformer alone and of the blend when every article is decided by what was chosen
    on the other folds: the blend's setting, and the multi-label thresholds of each. None below 2 articles."""
    k = min(folds, len(gold))
    if k < 2:
        return None
    decided = {"alone": np.zeros_like(gold), "blend": np.zeros_like(gold)}
    for held in np.array_split(np.random.default_rng(seed).permutation(len(gold)), k):
        rest = np.setdiff1d(np.arange(len(gold)), held)
        chosen = best_blend(logits[rest], scores[rest], gold[rest], multi_label)
        for name, blend in (("alone", ALONE), ("blend", chosen)):
            fused = fuse(logits, scores, blend, multi_label)
            _, thresholds = dev_score(fused[rest], gold[rest], multi_label)
            decided[name][held] = decide(fused[held], thresholds)
    return {name: macro_f1(gold, d, multi_label) for name, d in decided.items()} | {"folds": k}


def fit(logits: np.ndarray, scores: np.ndarray, gold: np.ndarray, multi_label: bool, mode: bool | None) -> dict:
    """The blend chosen on dev: {"weight", "temperature", "dev_macro_f1", "alone_dev_macro_f1" (on all of dev,
    where it was chosen), "cross_validated" ({"alone", "blend", "folds"}), "confirmed_gain", "adopted",
    "min_gain"}. gold: label indices (-100 for a label training never saw) or a 0/1 matrix."""
    best = best_blend(logits, scores, gold, multi_label)
    checked = cross_validated(logits, scores, gold, multi_label)
    gain = checked["blend"] - checked["alone"] if checked else None
    adopted = mode is not False and best["weight"] < 1.0 and (mode or (gain is not None and gain >= MIN_GAIN))
    return {**best, "alone_dev_macro_f1": dev_score(logits, gold, multi_label)[0], "cross_validated": checked,
            "confirmed_gain": gain, "adopted": bool(adopted), "min_gain": MIN_GAIN}
