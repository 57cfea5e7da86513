"""Evaluation protocols, each one command and one report:

- the model's own split (random stratified, or held-out outlets): rebuilt from its training_config.yaml;
- leave-one-source-out for the baseline: every outlet in turn held out;
- cross-corpus: a model trained on one corpus scored on another, through a label mapping, on shared labels.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
from datasets import concatenate_datasets
from joblib import Parallel, delayed

from model.atomic import atomic_write_text
from model import TopicClassifier, UserError, prepare_text
from training.config import TrainConfig, read_config_file
from training.corpus import read_corpus
from training.hygiene import LabelMapping, clean, source_split
from training.partial_labels import label_matrices, read_ids
from training.train import corpus_columns, load_splits

from .baseline import TfidfBaseline, baseline_texts
from .evaluate import evaluate, score, stamp
from .report import _table


def training_config(model_dir: Path) -> TrainConfig:
    path = Path(model_dir) / "training_config.yaml"
    if not path.is_file():
        raise UserError(f"{model_dir} has no training_config.yaml, so its split cannot be rebuilt; "
                        "use --cross-corpus to score it on a whole corpus")
    return TrainConfig(**read_config_file(path))


def _split_name(config: TrainConfig) -> str:
    if config.split == "source":
        return f"held-out sources {config.test_sources} (seed {config.seed})"
    if config.split == "ids":
        return f"fixed test ids from {config.test_ids}, dev {config.dev_size} of the rest (seed {config.seed})"
    return f"random stratified, dev {config.dev_size} / test {config.test_size} (seed {config.seed})"


def model_split(model_dir: str | Path, data: str, out_dir: str | Path, baseline: bool = True,
                batch_size: int = 32) -> dict:
    """Score a model on the test split it was trained with (same corpus reading, mapping, dedup, seed). When the
    recipe names fixed test ids (an annotated set), those are the articles scored; the random part of such a
    split is scored on the topics by `as_topics`."""
    splits, config = _model_splits(model_dir, data)
    test = splits["test"]
    if config.test_ids:
        fixed = set(read_ids(config.test_ids))
        test = test.filter(lambda r: r["id"] in fixed)
    if len(test) == 0:
        raise UserError("the model's split has no test articles (it was trained with --test-size 0)")
    classifier = TopicClassifier.from_pretrained(model_dir)
    train = splits["train"]
    if "known" in train.column_names:
        # Partial labels: the baseline cannot mask unknown labels, so it learns from the articles whose every
        # label is known (the annotated ones), in train and dev alike, as the model saw them.
        everything = set(classifier.labels)
        train = concatenate_datasets([splits["train"], splits["dev"]]).filter(
            lambda r: everything <= set(r["known"]))
    return evaluate(classifier, test, train, out_dir,
                    baseline, batch_size, model_dir=model_dir, data_path=data, split=_split_name(config),
                    title=f"Evaluation: {Path(model_dir).name} on {Path(data).name}")


def _model_splits(model_dir: str | Path, data: str | None = None):
    """The model's own train/dev/test split of `data` (default: its training corpus). Without its teacher: the
    split does not depend on it, and the baseline must learn from the annotated labels, not the teacher's."""
    config = training_config(Path(model_dir))
    config = dataclasses.replace(config, data=data or config.data, pseudo_labels_from=None)
    return load_splits(config)[0], config


class TopicView:
    """A multi-label model read as a single-label topic classifier. Its topical labels (those the topical
    taxonomy has, e.g. economy, sports) keep their probabilities; the residual topic (politics: the political
    sections, which the recipe teaches as "none of the topics") scores 1 - the highest of them, since the
    model's own politics / security / diplomacy outputs describe facets any article may have (an economy
    story is often political too), not the section. The top label wins."""

    def __init__(self, classifier: TopicClassifier, topics: list[str], residual: str):
        missing = sorted(set(topics) - {residual} - set(classifier.labels))
        if missing:
            raise UserError(f"the model has no label for the topics {', '.join(missing)}")
        self.classifier = classifier
        self.labels = sorted(set(topics) | {residual})
        self.residual = residual
        self.columns = [classifier.labels.index(lab) for lab in self.labels if lab != residual]
        self.settings = dataclasses.replace(classifier.settings, multi_label=False)

    def predict_proba(self, texts, titles=None, batch_size: int = 32) -> np.ndarray:
        probs = self.classifier.predict_proba(texts, titles, batch_size=batch_size)[:, self.columns]
        return np.insert(probs, self.labels.index(self.residual), 1 - probs.max(1), axis=1)


def as_topics(model_dir: str | Path, data: str, label_map: str, residual: str, out_dir: str | Path,
              baseline: bool = True, batch_size: int = 32) -> dict:
    """Score a multi-label model on the random part of its own test split (the fixed annotated ids left out) as
    a single-label topic classifier: gold labels from `label_map` (the topical taxonomy), predictions through
    `TopicView`, beside the TF-IDF baseline trained on the model's train split with the same gold labels."""
    classifier = TopicClassifier.from_pretrained(model_dir)
    if not classifier.settings.multi_label:
        raise UserError(f"{model_dir} is single-label: evaluate it on its own split without --as-topics")
    mapping = LabelMapping.from_yaml(label_map)
    view = TopicView(classifier, mapping.targets, residual)
    splits, config = _model_splits(model_dir, data)
    corpus = mapping.apply(read_corpus(data, config.format, corpus_columns(config)))
    topic_of = dict(zip(corpus["id"], corpus["label"]))
    fixed = set(read_ids(config.test_ids)) if config.test_ids else set()

    def relabel(part):
        part = part.filter(lambda r: r["id"] not in fixed and r["id"] in topic_of)
        return part.remove_columns([c for c in ("label", "known") if c in part.column_names]) \
            .add_column("label", [topic_of[i] for i in part["id"]])

    return evaluate(view, relabel(splits["test"]), relabel(splits["train"]), out_dir, baseline, batch_size,
                    model_dir=model_dir, data_path=data,
                    split=f"{_split_name(config)}, fixed test ids left out, labels from {label_map}, "
                          f"residual topic {residual}",
                    title=f"Topic evaluation: {Path(model_dir).name} on {Path(data).name}")


def cross_corpus(model_dir: str | Path, data: str, label_map: str | None, out_dir: str | Path,
                 baseline: bool = True, batch_size: int = 32) -> dict:
    """Score a model on another corpus: its labels mapped into the model's, keeping only shared labels. The
    baseline is trained on the model's own training split."""
    classifier = TopicClassifier.from_pretrained(model_dir)
    mapping = LabelMapping.from_yaml(label_map) if label_map else LabelMapping()
    target, _ = clean(mapping.apply(read_corpus(data)))
    shared = set(classifier.labels)
    if classifier.settings.multi_label:
        target = target.map(lambda r: {"label": [x for x in r["label"] if x in shared]})
    else:
        target = target.filter(lambda r: r["label"] in shared)
    if len(target) == 0:
        raise UserError(f"no article of {data} carries a label the model knows ({', '.join(sorted(shared))}); "
                        "map them with --label-map")
    train = None
    if baseline:
        train = _model_splits(model_dir)[0]["train"]
    return evaluate(classifier, target, train, out_dir, baseline, batch_size, model_dir=model_dir, data_path=data,
                    split=f"cross-corpus: whole corpus, labels shared with the model ({len(shared)})",
                    title=f"Cross-corpus evaluation: {Path(model_dir).name} on {Path(data).name}")


def _baseline_fold(corpus, source: str, seed: int) -> dict:
    started = time.perf_counter()
    splits = source_split(corpus, [source], dev_size=0.0, seed=seed)
    train = splits["train"]
    fitted = TfidfBaseline().fit(baseline_texts(train), list(train["label"]))
    metrics, _, _ = score(fitted, splits["test"])
    return {"train_articles": len(train), "test_articles": len(splits["test"]), "accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"], "per_label": metrics["per_label"],
            "seconds": round(time.perf_counter() - started, 1)}


def leave_one_source_out(data: str, out_dir: str | Path, label_map: str | None = None, seed: int = 0,
                         jobs: int = -1) -> dict:
    """The TF-IDF baseline trained on all outlets but one and scored on that one, for every outlet
    (folds run in parallel processes: vectorising and LinearSVC are single-threaded)."""
    mapping = LabelMapping.from_yaml(label_map) if label_map else LabelMapping()
    corpus, dedup = clean(mapping.apply(read_corpus(data)))
    sources = sorted({s for s in corpus["source"]}, key=str.lower)
    if len(sources) < 2:
        raise UserError(f"{data}: leave-one-source-out needs at least two sources, found {len(sources)}")
    results = Parallel(n_jobs=min(jobs if jobs > 0 else os.cpu_count() or 1, len(sources)))(
        delayed(_baseline_fold)(corpus, source, seed) for source in sources)
    folds = dict(zip(sources, results))
    for source, fold in folds.items():
        print(f"{source:<12} macro-F1 {fold['macro_f1']:.4f}  accuracy {fold['accuracy']:.4f}  "
              f"({fold['seconds']} s)")
    result = {"protocol": "leave-one-source-out", "model": "TF-IDF char_wb 2-5-grams + LinearSVC (title + body)",
              "dedup": {k: v for k, v in dedup.items() if not k.endswith("examples")},
              "folds": folds, "stamp": stamp(None, data, corpus, "leave-one-source-out")}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    rows = [[s, f["train_articles"], f["test_articles"], f["accuracy"], f["macro_f1"], f"{f['seconds']:.0f}"]
            for s, f in folds.items()]
    (out / "report.md").write_text("\n".join([
        f"# Leave-one-source-out: TF-IDF + LinearSVC baseline on {Path(data).name}", "",
        f"{dedup['articles_kept']} articles after removing empty and duplicate bodies; each outlet in turn is the "
        f"test set, the others train.", "",
        _table(["held-out source", "train", "test", "accuracy", "macro-F1", "seconds"], rows), "",
        f"Command: `{result['stamp']['command']}`", ""]), encoding="utf-8")
    return result


# ------------------------------------------------------------------------------------ long articles
def _reading_scorer(classifier: TopicClassifier, dataset):
    """logits of `dataset`'s articles -> macro-F1: argmax for a single-label model; for a multi-label one, its
    thresholds, each label scored on the articles that decide it (partial labels)."""
    from sklearn.metrics import f1_score

    from .metrics import masked_multi_label_scores

    labels = classifier.labels
    if not classifier.settings.multi_label:
        gold = list(dataset["label"])
        return lambda logits: float(f1_score(gold, [labels[j] for j in logits.argmax(1)], average="macro"))
    known = dataset["known"] if "known" in dataset.column_names else [labels] * len(dataset)
    gold, known = (np.array(m, dtype=int) for m in label_matrices(dataset["label"], known, labels))
    thresholds = np.array([classifier.settings.thresholds.get(lab, 0.5) for lab in labels])
    return lambda logits: masked_multi_label_scores(
        gold, (classifier._probabilities(logits) >= thresholds).astype(int), known, labels)["macro_f1"]


WINDOW_COUNTS = (2, 4, 8)


def long_articles(model_dir: str | Path, data: str, out_dir: str | Path, apply: bool = False,
                  batch_size: int = 32) -> dict:
    """Head-truncated vs windowed reading, on the dev and test articles longer than the model's window.

    Variants: the title leading every window or only the first; up to 2, 4 or 8 windows; mean or max of the
    windows' logits. Each window is scored once and every variant aggregates those scores. The windowed
    variant with the best dev macro-F1 is the recommendation (written into the model's topic_config.json with `apply`);
    test figures are reported for all, so the choice is never made on test."""
    from model.classifier import TOPIC_CONFIG, aggregate_windows

    splits, config = _model_splits(model_dir, data)
    classifier = TopicClassifier.from_pretrained(model_dir)
    settings = classifier.settings
    room = settings.max_length - classifier.tokenizer.num_special_tokens_to_add()
    results: dict = {"window_tokens": settings.max_length, "variants": {}}
    for part in ("dev", "test"):
        dataset = splits[part]
        lengths = [len(classifier.tokenizer(prepare_text(t, ti, settings), add_special_tokens=False)["input_ids"])
                   for t, ti in zip(dataset["text"], dataset["title"])]
        long_idx = [i for i, n in enumerate(lengths) if n > room]
        macro_f1 = _reading_scorer(classifier, dataset.select(long_idx))
        results[f"{part}_articles"], results[f"{part}_long_articles"] = len(dataset), len(long_idx)
        for title_every in (True, False):
            settings.max_windows, settings.title_in_every_window = max(WINDOW_COUNTS), title_every
            windows, owner, rank = [], [], []
            for n, i in enumerate(long_idx):
                for r, window in enumerate(classifier.windows(dataset["text"][i], dataset["title"][i])):
                    windows.append(window)
                    owner.append(n)
                    rank.append(r)
            scores, owner, rank = classifier.score_windows(windows, batch_size), np.array(owner), np.array(rank)
            variants = [("head (truncated)", 1, "mean")] + [
                (f"{k} windows, {how}, title {'every window' if title_every else 'first window'}", k, how)
                for k in WINDOW_COUNTS for how in ("mean", "max")]
            for name, k, how in variants:
                keep = rank < k
                logits = aggregate_windows(scores[keep], owner[keep], len(long_idx), how)
                entry = results["variants"].setdefault(name, {"max_windows": k, "aggregate": how,
                                                              "title_in_every_window": title_every})
                entry[f"{part}_macro_f1"] = macro_f1(logits)
    # The product reads long articles whole, so the choice is among the windowed readings; the head is what
    # they are compared with.
    best_name, best = max(((name, v) for name, v in results["variants"].items() if v["max_windows"] > 1),
                          key=lambda item: item[1]["dev_macro_f1"])
    results["chosen_on_dev"] = best_name
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(results, indent=2))
    rows = [[name, v["dev_macro_f1"], v["test_macro_f1"]] for name, v in results["variants"].items()]
    (out / "report.md").write_text("\n".join([
        f"# Long articles: {Path(model_dir).name} on {Path(data).name}", "",
        f"Articles longer than the {settings.max_length}-token window: {results['dev_long_articles']} of "
        f"{results['dev_articles']} dev, {results['test_long_articles']} of {results['test_articles']} test "
        f"(split {_split_name(config)}). Macro-F1 on those articles only, one model, each reading:", "",
        _table(["reading", "dev macro-F1 (long)", "test macro-F1 (long)"], rows), "",
        f"Chosen on dev, among the windowed readings: **{best_name}**.", "",
        f"Command: `{stamp(model_dir, data, splits['test'], _split_name(config))['command']}`", ""]),
        encoding="utf-8")
    print(_table(["reading", "dev macro-F1 (long)", "test macro-F1 (long)"], rows))
    print(f"chosen on dev: {best_name}")
    if apply:
        path = Path(model_dir) / TOPIC_CONFIG
        saved = json.loads(path.read_text())
        saved.update({k: best[k] for k in ("max_windows", "aggregate", "title_in_every_window")})
        atomic_write_text(path, json.dumps(saved, ensure_ascii=False, indent=2))
        print(f"{path}: reading set to {best_name}")
    return results
