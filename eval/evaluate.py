"""Evaluate a topic model on a dataset: scores, calibration, per-source breakdown, errors, and the TF-IDF
baseline trained on the same train split, side by side.

    from eval import evaluate
    metrics = evaluate(TopicClassifier.from_pretrained("runs/x"), test, train_dataset=train, out_dir="report")
"""
from __future__ import annotations

import hashlib
import json
import platform
import shlex
import sys
from collections import Counter
from importlib import metadata
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, multilabel_confusion_matrix

from model.offline_e5 import sha256_file
from model.tfidf import TfidfBaseline, baseline_texts
from training.metrics import multi_label_scores, single_label_scores
from .report import plot_confusion, plot_label_confusions, plot_reliability, write_errors, write_markdown

SNIPPET = 160
BINS = 10


# ------------------------------------------------------------------------------------------- scoring
def calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = BINS) -> tuple[float, list[dict]]:
    """Expected calibration error over equal-width confidence bins, and the bins for the diagram."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        acc = float(correct[inside].mean()) if n else 0.0
        conf = float(confidence[inside].mean()) if n else 0.0
        ece += n / max(len(confidence), 1) * abs(acc - conf)
        table.append({"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": n, "accuracy": acc,
                      "confidence": conf})
    return float(ece), table


def _per_label(report: dict, labels: list[str]) -> dict:
    return {lab: {"precision": report[lab]["precision"], "recall": report[lab]["recall"],
                  "f1": report[lab]["f1-score"], "support": int(report[lab]["support"])} for lab in labels}


def _snippet(text: str) -> str:
    return " ".join(text.split())[:SNIPPET]


def _source_groups(dataset) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, source in enumerate(dataset["source"]):
        groups.setdefault(source, []).append(i)
    return dict(sorted(groups.items()))


def _calibration_fields(confidence: np.ndarray | None, correct: np.ndarray) -> dict:
    """ECE and reliability bins, or nothing for a model without probabilities (a LinearSVC): its
    calibration is undefined, not "always sure"."""
    if confidence is None:
        return {}
    ece, bins = calibration(confidence, correct)
    return {"ece": ece, "reliability": bins}


def top_confusions(errors: list[dict], most: int = 10, examples: int = 3) -> list[dict]:
    """The most frequent (gold, predicted) error pairs, each with a few example ids and snippets."""
    pairs = Counter((e["gold"], e["predicted"]) for e in errors).most_common(most)
    return [{"gold": g, "predicted": p, "count": n,
             "examples": [{"id": e["id"], "snippet": e["snippet"], **({"why": e["why"]} if e.get("why") else {})}
                          for e in errors if (e["gold"], e["predicted"]) == (g, p)][:examples]}
            for (g, p), n in pairs]


EXPLAINED_ERRORS = 100  # errors explained per report: the examples of the top confusions first
ERROR_SENTENCES = 20  # sentences scored per explained error (one forward pass each)


def explain_errors(model, dataset, errors: list[dict], top: list[dict], batch_size: int) -> dict:
    """Add to each of the first EXPLAINED_ERRORS errors (the top confusions' examples first) `why`: for each
    label it predicted, the sentence that raised that label's probability most, with its effect
    (TopicClassifier.explain). Returns how many were explained, for the report."""
    rows = {}
    for row in dataset:
        rows.setdefault(row["id"], row)
    shown = {e["id"] for c in top for e in c["examples"]}
    order = sorted(range(len(errors)), key=lambda i: errors[i]["id"] not in shown)[:EXPLAINED_ERRORS]
    for i in order:
        error, row = errors[i], rows[errors[i]["id"]]
        predicted = [lab for lab in error["predicted"].split("|") if lab in model.labels]
        if not predicted:
            continue
        explained = model.explain(row["text"], row.get("title"), labels=predicted, top_n=1,
                                  max_sentences=ERROR_SENTENCES, batch_size=batch_size)
        error["why"] = " | ".join(f"{label} {items[0]['effect']:+.2f}: {' '.join(items[0]['sentence'].split())[:160]}"
                                  for label, items in explained["explanations"].items() if items)
    return {"explained": len(order), "errors": len(errors), "sentences_per_article": ERROR_SENTENCES}


def score_single_label(gold: list[str], predicted: list[str], confidence: np.ndarray | None, labels: list[str],
                       dataset) -> tuple[dict, list[dict]]:
    scores = single_label_scores(gold, predicted)
    present = [lab for lab in labels if lab in set(gold) | set(predicted)]
    report = classification_report(gold, predicted, labels=present, output_dict=True, zero_division=0)
    counts = confusion_matrix(gold, predicted, labels=present)
    correct = np.array([g == p for g, p in zip(gold, predicted)])
    per_source = {source: {"articles": len(idx),
                           **single_label_scores([gold[i] for i in idx], [predicted[i] for i in idx])}
                  for source, idx in _source_groups(dataset).items()}
    errors = [{"id": dataset[i]["id"], "source": dataset[i]["source"], "gold": gold[i], "predicted": predicted[i],
               "confidence": "" if confidence is None else round(float(confidence[i]), 4),
               "snippet": _snippet(dataset[i]["text"])}
              for i in np.flatnonzero(~correct)]
    metrics = {**scores, **_calibration_fields(confidence, correct), "per_label": _per_label(report, present),
               "labels": present, "confusion_matrix": counts.tolist(),
               "confusion_matrix_normalised": (counts / np.maximum(counts.sum(1, keepdims=True), 1)).round(4).tolist(),
               "per_source": per_source, "top_confusions": top_confusions(errors)}
    return metrics, errors


def score_multi_label(gold: np.ndarray, predicted: np.ndarray, probs: np.ndarray | None, labels: list[str],
                      dataset) -> tuple[dict, list[dict]]:
    scores = multi_label_scores(gold, predicted)
    report = classification_report(gold, predicted, target_names=labels, output_dict=True, zero_division=0)
    # One 2x2 matrix per label ([[TN, FP], [FN, TP]]): a gold x predicted table of several labels per article
    # has no diagonal that reads as accuracy.
    per_label_cm = multilabel_confusion_matrix(gold, predicted)
    names = lambda row: "|".join(lab for lab, v in zip(labels, row) if v) or "(none)"  # noqa: E731
    per_source = {source: {"articles": len(idx), **multi_label_scores(gold[idx], predicted[idx])}
                  for source, idx in _source_groups(dataset).items()}
    wrong = np.flatnonzero((gold != predicted).any(1))
    errors = [{"id": dataset[int(i)]["id"], "source": dataset[int(i)]["source"], "gold": names(gold[i]),
               "predicted": names(predicted[i]),
               "confidence": "" if probs is None else round(float(probs[i].max()), 4),
               "snippet": _snippet(dataset[int(i)]["text"])}
              for i in wrong]
    # Each (article, label) probability against whether the label is gold: a calibrated 0.8 is right 80 % of
    # the time. (Against "the decision was right", a confident 0.01 for a gold negative would count as wrong.)
    calibration_fields = _calibration_fields(None if probs is None else probs.ravel(), gold.ravel().astype(bool))
    metrics = {**scores, **calibration_fields, "per_label": _per_label(report, labels), "labels": labels,
               "per_label_confusion": {lab: per_label_cm[j].tolist() for j, lab in enumerate(labels)},
               "per_source": per_source, "top_confusions": top_confusions(errors)}
    return metrics, errors


# ------------------------------------------------------------------------------------------ models
def _model_outputs(model, dataset, batch_size: int):
    """(labels, multi_label, probabilities or None, predictions) for a TopicClassifier or a TfidfBaseline."""
    if isinstance(model, TfidfBaseline):
        return model.labels, model.multi_label, None, model.predict(baseline_texts(dataset))
    probs = model.predict_proba(list(dataset["text"]), list(dataset["title"]), batch_size=batch_size)
    labels = model.labels
    if model.settings.multi_label:
        return labels, True, probs, probs >= model.settings.threshold_vector(labels)
    return labels, False, probs, [labels[i] for i in probs.argmax(1)]


def score(model, dataset, batch_size: int = 32) -> tuple[dict, list[dict], bool]:
    labels, multi, probs, predicted = _model_outputs(model, dataset, batch_size)
    if multi:
        gold = np.array([[lab in set(g) for lab in labels] for g in dataset["label"]], dtype=int)
        pred = np.array([[lab in set(p) for lab in labels] for p in predicted], dtype=int) \
            if isinstance(model, TfidfBaseline) else np.asarray(predicted, dtype=int)
        metrics, errors = score_multi_label(gold, pred, probs, labels, dataset)
    else:
        confidence = probs.max(1) if probs is not None else None
        metrics, errors = score_single_label(list(dataset["label"]), predicted, confidence, labels, dataset)
    return metrics, errors, multi


# ------------------------------------------------------------------------------------------- stamp
def _sha256_dir(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode())
        digest.update(sha256_file(file).encode())
    return digest.hexdigest()


def data_hash(dataset) -> str:
    digest = hashlib.sha256()
    for row in dataset:
        digest.update(json.dumps([row["id"], row["text"], row["label"]], ensure_ascii=False).encode())
    return digest.hexdigest()


def shown_path(path) -> str:
    """A path as a committed report shows it: relative to the working directory when it lies below it, so that
    a report names no directory of the machine that wrote it."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def stamp(model_dir: str | Path | None, data_path: str | None, dataset, split: str) -> dict:
    versions = {name: metadata.version(name) for name in ("arabic-news-topics", "torch", "transformers",
                                                           "datasets", "scikit-learn", "numpy")}
    versions["python"] = platform.python_version()
    program = "arabic-topics" if sys.argv[0].endswith("arabic-topics") else shown_path(sys.argv[0])
    return {"command": shlex.join([program, *sys.argv[1:]]),
            "model": shown_path(model_dir) if model_dir else "in-memory",
            "model_sha256": _sha256_dir(Path(model_dir)) if model_dir and Path(model_dir).is_dir() else "n/a",
            "data": shown_path(data_path) if data_path else "in-memory", "data_articles": len(dataset),
            "data_sha256": data_hash(dataset), "split": split, "versions": versions}


# ---------------------------------------------------------------------------------------- evaluate
def evaluate(model, dataset, train_dataset=None, out_dir: str | Path | None = None, baseline: bool = True,
             batch_size: int = 32, model_dir=None, data_path=None, split: str = "given",
             title: str = "Evaluation report", data_notes: dict | None = None,
             baseline_note: str | None = None) -> dict:
    """Score `model` (a TopicClassifier or TfidfBaseline) on `dataset`; with `train_dataset` and
    `baseline`, also train and score the TF-IDF baseline on the same split. Writes the report files
    (metrics.json, report.md, confusion_matrix.png, reliability.png, errors.csv) when `out_dir` is given.
    `data_notes` (e.g. duplicate counts) join metrics["data"]; `baseline_note` says what the baseline learnt
    from, or why there is none."""
    model_metrics, errors, multi = score(model, dataset, batch_size)
    metrics = {"multi_label": multi, "data": {"articles": len(dataset), **(data_notes or {})},
               "model": model_metrics}
    if out_dir is not None and hasattr(model, "explain"):
        model_metrics["explained_errors"] = explain_errors(model, dataset, errors, model_metrics["top_confusions"],
                                                           batch_size)
        model_metrics["top_confusions"] = top_confusions(errors)
    if isinstance(model, TfidfBaseline):  # the baseline is the model scored: nothing to set beside it
        pass
    elif baseline and train_dataset is not None:
        fitted = TfidfBaseline().fit(baseline_texts(train_dataset), list(train_dataset["label"]))
        metrics["baseline"], _, _ = score(fitted, dataset)
        metrics["baseline"]["train_articles"] = len(train_dataset)
        metrics["baseline"]["trained_on"] = baseline_note or "the same train split"
    else:
        metrics["no_baseline"] = baseline_note or ("not asked for" if not baseline else "no training split given")
    metrics["stamp"] = stamp(model_dir, data_path, dataset, split)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2))
        if multi:
            plot_label_confusions(model_metrics["per_label_confusion"], model_metrics["per_label"],
                                  out / "confusion_matrix.png")
        else:
            plot_confusion(np.array(model_metrics["confusion_matrix"]), model_metrics["labels"],
                           out / "confusion_matrix.png", "Confusion matrix")
        if "ece" in model_metrics:
            plot_reliability(model_metrics["reliability"], model_metrics["ece"], out / "reliability.png")
        write_errors(errors, out / "errors.csv")
        write_markdown(metrics, out / "report.md", title)
    return metrics
