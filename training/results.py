"""The phase after training: dev and test scored, the TF-IDF baseline trained beside the model and blended in
where cross-validation on dev confirms a gain, and the model directory written with its metrics and card."""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import yaml
from datasets import DatasetDict

from .metrics import (masked_multi_label_scores, multi_label_scores, single_label_scores)
from model import TopicClassifier, TopicSettings
from model.scores import probabilities

from .config import TrainConfig
from . import fusion, partial_labels
from .bundle import bundle_recipe_files
from model.card import write_model_card

log = logging.getLogger("arabic-topics")


def split_scores(output, multi_label: bool, settings: TopicSettings, labels: list[str]) -> dict:
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
            metrics[name] = split_scores(out._replace(predictions=blended[name]), multi_label, settings, labels)
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
    # An overwritten run's model stayed in place while this one trained; now that this one is complete, all of
    # it is set aside (config.json first), so that nothing of it is read with the new one (a TF-IDF blend the
    # new model lacks) and no rename meets a directory in the way. config.json is what marks a directory as a
    # finished model, so the new one moves last: a crash between two renames leaves an unfinished directory
    # that no loader mistakes for a model, and the old model whole in .replaced.
    previous = [item for item in out.iterdir() if item.name not in ("checkpoints", ".saving", ".replaced")]
    retired = out / ".replaced"
    shutil.rmtree(retired, ignore_errors=True)
    if previous:
        retired.mkdir()
        for item in sorted(previous, key=lambda item: item.name != "config.json"):
            os.replace(item, retired / item.name)
    for item in sorted(staging.iterdir(), key=lambda item: item.name == "config.json"):
        os.replace(item, out / item.name)
    staging.rmdir()
    shutil.rmtree(retired, ignore_errors=True)
    # The finished model is in place; the intermediate checkpoints (~1 GB each for e5-small) are not needed.
    shutil.rmtree(out / "checkpoints", ignore_errors=True)


