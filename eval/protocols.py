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

from joblib import Parallel, delayed

from model import TopicClassifier, UserError
from training.config import TrainConfig, read_config_file
from training.corpus import read_corpus
from training.hygiene import LabelMapping, clean, source_split
from training.train import load_splits

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
    return f"random stratified, dev {config.dev_size} / test {config.test_size} (seed {config.seed})"


def model_split(model_dir: str | Path, data: str, out_dir: str | Path, baseline: bool = True,
                batch_size: int = 32) -> dict:
    """Score a model on the test split it was trained with (same corpus reading, mapping, dedup, seed)."""
    config = dataclasses.replace(training_config(Path(model_dir)), data=data)
    splits, _ = load_splits(config)
    if len(splits["test"]) == 0:
        raise UserError("the model's split has no test articles (it was trained with --test-size 0)")
    return evaluate(TopicClassifier.from_pretrained(model_dir), splits["test"], splits["train"], out_dir,
                    baseline, batch_size, model_dir=model_dir, data_path=data, split=_split_name(config),
                    title=f"Evaluation: {Path(model_dir).name} on {Path(data).name}")


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
        config = training_config(Path(model_dir))
        train = load_splits(config)[0]["train"]
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
