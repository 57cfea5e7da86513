"""Evaluation protocols, each one command and one report:

- the model's own split (random stratified, or held-out outlets): rebuilt from its training_config.yaml;
- leave-one-source-out for the baseline: every outlet in turn held out;
- any other labelled file or corpus: scored whole (every row), gold labels matched to the model's by name.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
from datasets import Value, concatenate_datasets
from joblib import Parallel, delayed

from model import TopicClassifier, UserError, default_model_dir, prepare_text
from model.atomic import atomic_write_text
from model.card import markdown_table
from model.scores import probabilities, topic_scores
from training.bundle import resolve_model_paths
from training.config import TrainConfig, read_config_file
from training.corpus import TableColumns, read_corpus
from training.hygiene import LabelMapping, body_groups, body_key, clean, source_split
from training.partial_labels import label_matrices, read_annotations, read_ids
from training.data import corpus_columns, load_splits, test_fraction

from model.tfidf import TfidfBaseline, baseline_texts
from training.config import CORPUS_OPTIONS
from .evaluate import evaluate, score, stamp


def training_config(model_dir: Path) -> TrainConfig:
    """The config a model was trained with, its bundled recipe files (label mapping, test ids) read from the
    model directory, so the split can be rebuilt from any working directory."""
    path = Path(model_dir) / "training_config.yaml"
    if not path.is_file():
        raise UserError(f"{model_dir} has no training_config.yaml, so its split cannot be rebuilt; "
                        "score it on a labelled file other than its training corpus instead")
    return TrainConfig(**resolve_model_paths(read_config_file(path), model_dir))


def _split_name(config: TrainConfig) -> str:
    if config.split == "source":
        return f"held-out sources {config.test_sources} (seed {config.seed})"
    if config.split == "ids":
        return f"fixed test ids from {config.test_ids}, dev {config.dev_size} of the rest (seed {config.seed})"
    return f"random stratified, dev {config.dev_size} / test {test_fraction(config)} (seed {config.seed})"


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
    return evaluate(classifier, test, _baseline_train(splits, classifier.labels), out_dir,
                    baseline, batch_size, model_dir=model_dir, data_path=data, split=_split_name(config),
                    title=f"Evaluation: {Path(model_dir).name} on {Path(data).name}")


def _baseline_train(splits, labels: list[str]):
    """The model's training articles as the baseline learns them. With partial labels the baseline cannot mask
    unknown labels, so it learns from the articles whose every label is known (the annotated ones), in train
    and dev alike, as the model saw them."""
    if "known" not in splits["train"].column_names:
        return splits["train"]
    everything = set(labels)
    return concatenate_datasets([splits["train"], splits["dev"]]).filter(lambda r: everything <= set(r["known"]))


def _model_splits(model_dir: str | Path, data: str | None = None):
    """The model's own train/dev/test split of `data` (default: its training corpus). Without its teacher: the
    split does not depend on it, and the baseline must learn from the annotated labels, not the teacher's."""
    config = training_config(Path(model_dir))
    config = dataclasses.replace(config, data=data or config.data, pseudo_labels_from=None)
    return load_splits(config)[0], config


class TopicView:
    """A multi-label model read as a single-label topic classifier, exactly as predict reads its `label`
    (model/classifier.py topic_scores): its topical labels keep their probabilities; the residual topic
    (politics: the political sections, which the recipe teaches as "none of the topics") scores 1 - the
    highest of them, since the model's own politics / security / diplomacy outputs describe facets any
    article may have (an economy story is often political too), not the section. The top topic wins. A model
    whose settings name its topics must be read with those."""

    def __init__(self, classifier: TopicClassifier, topics: list[str], residual: str):
        missing = sorted(set(topics) - {residual} - set(classifier.labels))
        if missing:
            raise UserError(f"the model has no label for the topics {', '.join(missing)}")
        own = classifier.settings
        if own.topics and (set(own.topics) != set(topics) - {residual} or own.residual_topic != residual):
            raise UserError(f"the model reads its label among the topics {', '.join(classifier.topics)} "
                            f"(residual {own.residual_topic or 'none'}); score it with those")
        self.classifier = classifier
        self.topics = sorted(set(topics) - {residual})
        self.columns = [classifier.labels.index(topic) for topic in self.topics]  # in the model's outputs
        self.labels = sorted(set(topics) | {residual})
        self.residual = residual
        self.settings = dataclasses.replace(classifier.settings, multi_label=False)

    def predict_proba(self, texts, titles=None, batch_size: int = 32) -> np.ndarray:
        probs = self.classifier.predict_proba(texts, titles, batch_size=batch_size)
        scores = topic_scores(probs, self.classifier.labels, self.topics, self.residual)
        order = [*self.topics, self.residual]
        return scores[:, [order.index(label) for label in self.labels]]


def topic_parts(model_dir: str | Path, data: str | None, label_map: str, leave_out: str | None = None):
    """The model's own train/dev/test split relabelled with the topical taxonomy `label_map` (articles it maps
    away dropped), and the config. Test is the part whose topic mix is the corpus's own: without the ids of
    `leave_out` when given (the fixed annotated test ids, e.g. training/recipes/psd-test-ids.txt, drawn mostly
    from the political sections). Without it: a random split leaves out the fixed ids its recipe added; an ids
    split (its file is the whole test split) its annotated articles; a held-out outlet is scored whole."""
    splits, config = _model_splits(model_dir, data)
    corpus = LabelMapping.from_yaml(label_map).apply(read_corpus(config.data, config.format, corpus_columns(config)))
    topic_of = dict(zip(corpus["id"], corpus["label"]))
    if leave_out:
        left_out = set(read_ids(leave_out))
    elif config.split == "random" and config.test_ids:
        left_out = set(read_ids(config.test_ids))
    elif config.split == "ids" and config.annotations:
        left_out = set(read_annotations(config.annotations.split(",")))
    else:
        left_out = set()

    def relabel(part):
        part = part.filter(lambda r: r["id"] not in left_out and r["id"] in topic_of)
        return part.remove_columns([c for c in ("label", "known") if c in part.column_names]) \
            .add_column("label", [topic_of[i] for i in part["id"]])

    return {name: relabel(part) for name, part in splits.items()}, config


def as_topics(model_dir: str | Path, data: str, label_map: str, residual: str, out_dir: str | Path,
              baseline: bool = True, batch_size: int = 32, leave_out: str | None = None) -> dict:
    """Score a multi-label model on its own test split as a single-label topic classifier: gold labels from
    `label_map` (the topical taxonomy), predictions through `TopicView`, beside the TF-IDF baseline trained on
    the model's train split with the same gold labels. The test articles: `topic_parts`."""
    classifier = TopicClassifier.from_pretrained(model_dir)
    if not classifier.settings.multi_label:
        raise UserError(f"{model_dir} is single-label: evaluate it on its own split without --as-topics")
    view = TopicView(classifier, LabelMapping.from_yaml(label_map).targets, residual)
    parts, config = topic_parts(model_dir, data, label_map, leave_out)
    left_out = f"the ids of {leave_out}" if leave_out else "fixed or annotated test ids"
    return evaluate(view, parts["test"], parts["train"], out_dir, baseline, batch_size, model_dir=model_dir,
                    data_path=data,
                    split=f"{_split_name(config)}, {left_out} left out, labels from {label_map}, residual topic {residual}",
                    title=f"Topic evaluation: {Path(model_dir).name} on {Path(data).name}")


# ------------------------------------------------------------------------------------- a labelled file


def corpus_reading(**given) -> tuple[str, TableColumns]:
    """(format, table columns) from the corpus options of `arabic-topics train` (CORPUS_OPTIONS) that were
    given, its defaults for the others."""
    config = TrainConfig(**given)
    return config.format, corpus_columns(config)


class TopLabel:
    """A multi-label model read as a single-label one, for gold data with one label per article: its answer is
    predict's `label`, the best of its topics (every label, for a model whose settings name no topics)."""

    def __init__(self, classifier: TopicClassifier):
        self.classifier = classifier
        self.labels = classifier.topics
        self.settings = dataclasses.replace(classifier.settings, multi_label=False)

    def predict_proba(self, texts, titles=None, batch_size: int = 32) -> np.ndarray:
        return self.classifier.topic_proba(self.classifier.predict_proba(texts, titles, batch_size=batch_size))


def _flat(labels) -> set[str]:
    return {x for lab in labels for x in (lab if isinstance(lab, list) else [lab])}


def _same_path(a, b) -> bool:
    return bool(a and b) and Path(a).resolve() == Path(b).resolve()


def _read_labelled(path: str, fmt: str, columns: TableColumns, mapping: LabelMapping | None, what: str):
    try:
        data = read_corpus(path, fmt, columns)
    except KeyError as exc:  # a named id / source column a row lacks
        raise UserError(f"{path}: a row has no column {exc.args[0]!r}") from None
    read = len(data)
    data = mapping.apply(data) if mapping else data
    if len(data) == 0:
        raise UserError(f"{path}: the label mapping dropped every one of its {read} articles")
    empty = [i for i, t in zip(data["id"], data["text"]) if not t.strip()]
    if empty:
        raise UserError(f"{path}: {len(empty)} {what} article(s) without text (e.g. {empty[0]!r}); "
                        "every article of the file is scored, so each needs a text")
    return data, read


def _matched(classifier: TopicClassifier, gold, data: str):
    """(the model as it is scored, the gold data) once the gold labels are known to be the model's."""
    file_labels, model_labels = _flat(gold["label"]), set(classifier.labels)
    unknown = file_labels - model_labels
    if unknown:
        raise UserError(f"{data}: label(s) {', '.join(sorted(unknown))} are not the model's (file labels: "
                        f"{', '.join(sorted(file_labels))}; model labels: {', '.join(sorted(model_labels))}); "
                        "map the file's labels onto the model's with --label-map MAP.yaml")
    multi_gold = isinstance(gold[0]["label"], list)
    if multi_gold and not classifier.settings.multi_label:
        several = sum(len(lab) != 1 for lab in gold["label"])
        if several:
            raise UserError(f"{data}: {several} article(s) carry no label or several; the model is single-label "
                            "(one label per article)")
        features = gold.features.copy()
        features["label"] = Value("string")
        gold = gold.map(lambda r: {"label": r["label"][0]}, features=features)
        multi_gold = False
    if classifier.settings.multi_label and not multi_gold:
        facets = file_labels - set(classifier.topics)
        if facets:
            raise UserError(f"{data}: one label per article is scored against predict's `label`, one of the topics "
                            f"{', '.join(classifier.topics)}; {', '.join(sorted(facets))} are not topics of the "
                            "model: give every label of an article as a list ('a|b') to score `labels`")
        return TopLabel(classifier), gold
    return classifier, gold


def _duplicates(data) -> dict:
    """Exact duplicate bodies (normalised, as training's dedup finds them): counted and kept, since a file given
    for evaluation is scored whole; a reader of the scores should know how many rows repeat others."""
    repeated = [members for members in body_groups(data["text"]).values() if len(members) > 1]
    labels = data["label"]
    return {"groups": len(repeated), "rows": sum(len(m) - 1 for m in repeated),
            "conflicting_label_groups": sum(len({str(labels[i]) for i in m}) > 1 for m in repeated),
            "examples": [[data[i]["id"] for i in m] for m in repeated[:10]]}


def _training_corpus_here(config: TrainConfig) -> str | None:
    """The first file the model's training split is built from that is not here (None: all are)."""
    for name in ("data", "dev_data", "test_data", "annotations"):
        path = getattr(config, name, None)
        if path and not Path(path).exists():
            return path
    return None


def _whole_file_baseline(model_dir: Path, config: TrainConfig | None, labels: list[str], multi_label_model: bool,
                         multi_gold: bool, baseline_data: str | None, read) -> tuple:
    """(training articles for the baseline, what they are) or (None, why there is no baseline)."""
    if baseline_data:
        train, _ = clean(read(baseline_data, "baseline training"))
        if isinstance(train[0]["label"], list) != multi_gold:
            raise UserError(f"{baseline_data}: the baseline's training labels must be "
                            f"{'several' if multi_gold else 'one'} per article, as in the scored file")
        return train, f"trained on {baseline_data} ({len(train)} articles after removing duplicates)"
    if config is None:
        return None, "the model has no training_config.yaml, so its training split is unknown; give --baseline-data"
    if multi_label_model != multi_gold:  # a baseline learning the model's labels would answer another question
        return None, (f"the model learnt {'several labels' if multi_label_model else 'one label'} per article and "
                      f"the file has {'several' if multi_gold else 'one'}; give --baseline-data")
    missing = _training_corpus_here(config)
    if missing:
        return None, f"the model's training data ({missing}) is not here; give --baseline-data"
    return _baseline_train(_model_splits(model_dir)[0], labels), f"trained on the model's training split of {config.data}"


def evaluate_file(data: str, model: str | Path | None = None, out_dir: str | Path | None = None, *,
                  format: str | None = None, text_column: str | None = None, title_column: str | None = None,
                  label_column: str | None = None, id_column: str | None = None, source_column: str | None = None,
                  label_map: str | None = None, baseline_data: str | None = None, baseline: bool = True,
                  batch_size: int = 32) -> dict:
    """Score a model (default: the shipped one) on a labelled corpus file or folder.

    When `data` is the model's own training corpus (the resolved path of `data` in its training_config.yaml),
    its test split is scored, rebuilt as in training (`model_split`). Any other file is scored whole: every article, exact
    duplicates counted and kept; gold labels (after `label_map`) must be the model's, matched by name; one gold
    label per article on a multi-label model scores its most probable label. The corpus options are those of
    `arabic-topics train` (None: its defaults). The TF-IDF baseline learns from `baseline_data` (read like
    `data`) or else the model's training split when its corpus is here; otherwise the report says why it has none.
    """
    model_dir = Path(model) if model else default_model_dir()
    given = {k: v for k, v in zip(CORPUS_OPTIONS, (format, text_column, title_column, label_column, id_column,
                                                    source_column)) if v is not None}
    fmt, columns = corpus_reading(**given)
    config = training_config(model_dir) if (model_dir / "training_config.yaml").is_file() else None
    if config is not None and _same_path(data, config.data):
        differing = sorted(k for k, v in given.items() if v != getattr(config, k))
        if differing or label_map or baseline_data:
            options = [f"--{k.replace('_', '-')}" for k in differing] + ["--label-map"] * bool(label_map) \
                + ["--baseline-data"] * bool(baseline_data)
            raise UserError(f"{data} is the model's training corpus, scored on its test split as it was trained "
                            f"(its columns, mapping and train split): drop {', '.join(options)}")
        return model_split(model_dir, data, out_dir, baseline, batch_size)

    mapping = LabelMapping.from_yaml(label_map) if label_map else None

    def read(path, what):
        return _read_labelled(path, fmt, columns, mapping, what)[0]

    gold, read_count = _read_labelled(data, fmt, columns, mapping, "scored")
    classifier = TopicClassifier.from_pretrained(model_dir)
    scored, gold = _matched(classifier, gold, data)
    multi_gold = isinstance(gold[0]["label"], list)
    train, note = (None, "not asked for (--no-baseline)") if not baseline else _whole_file_baseline(
        model_dir, config, classifier.labels, classifier.settings.multi_label, multi_gold, baseline_data, read)
    notes = {"read": read_count, "dropped_by_label_map": read_count - len(gold), "duplicates": _duplicates(gold)}
    if train is not None:
        seen = {body_key(t) for t in train["text"]}
        notes["also_in_baseline_training"] = sum(body_key(t) in seen for t in gold["text"])
    view = " (most probable label of a multi-label model)" if isinstance(scored, TopLabel) else ""
    return evaluate(scored, gold, train, out_dir, baseline, batch_size, model_dir=model_dir, data_path=data,
                    split=f"whole file, every article scored{view}" + (f", labels through {label_map}"
                                                                       if label_map else ""),
                    title=f"Evaluation: {model_dir.name} on {Path(data).name}", data_notes=notes,
                    baseline_note=note)


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
                         jobs: int = -1, **corpus_options) -> dict:
    """The TF-IDF baseline trained on all outlets but one and scored on that one, for every outlet
    (folds run in parallel processes: vectorising and LinearSVC are single-threaded). `corpus_options`: those of
    CORPUS_OPTIONS, as `arabic-topics train` takes them."""
    mapping = LabelMapping.from_yaml(label_map) if label_map else LabelMapping()
    corpus, dedup = clean(mapping.apply(read_corpus(data, *corpus_reading(**corpus_options))))
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
        markdown_table(["held-out source", "train", "test", "accuracy", "macro-F1", "seconds"], rows), "",
        f"Command: `{result['stamp']['command']}`", ""]), encoding="utf-8")
    return result


# ------------------------------------------------------------------------------------ long articles
def _reading_scorer(classifier: TopicClassifier, dataset):
    """logits of `dataset`'s articles -> macro-F1: argmax for a single-label model; for a multi-label one, its
    thresholds, each label scored on the articles that decide it (partial labels)."""
    from training.metrics import masked_multi_label_scores, single_label_scores

    labels = classifier.labels
    if not classifier.settings.multi_label:
        gold = list(dataset["label"])
        return lambda logits: single_label_scores(gold, [labels[j] for j in logits.argmax(1)])["macro_f1"]
    known = dataset["known"] if "known" in dataset.column_names else [labels] * len(dataset)
    gold, known = (np.array(m, dtype=int) for m in label_matrices(dataset["label"], known, labels))
    thresholds = classifier.settings.threshold_vector(labels)
    return lambda logits: masked_multi_label_scores(
        gold, (probabilities(logits, True) >= thresholds).astype(int), known, labels)["macro_f1"]


WINDOW_COUNTS = (2, 4, 8)


def window_scores(classifier: TopicClassifier, texts: list, titles: list,
                  batch_size: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each article read in the classifier's windows (up to its settings' max_windows), every window scored
    once: (logits per window, the article each belongs to, its rank in that article), so that any number of
    leading windows can be aggregated from one pass."""
    windows, owner, _ = classifier._read_all(texts, titles)  # the reading predict does, each text's windows consecutive
    counts = np.bincount(owner, minlength=len(texts))
    rank = np.arange(len(owner)) - (np.cumsum(counts) - counts)[owner]
    return classifier.score_windows(windows, batch_size), owner, rank


def long_articles(model_dir: str | Path, data: str, out_dir: str | Path, apply: bool = False,
                  batch_size: int = 32) -> dict:
    """Head-truncated vs windowed reading, on the dev and test articles longer than the model's window.

    Variants: the title leading every window or only the first; up to 2, 4 or 8 windows; mean or max of the
    windows' logits. Each window is scored once and every variant aggregates those scores. The windowed
    variant with the best dev macro-F1 is the recommendation (written into the model's topic_config.json with `apply`);
    test figures are reported for all, so the choice is never made on test."""
    from model.classifier import TOPIC_CONFIG
    from model.scores import aggregate_windows

    splits, config = _model_splits(model_dir, data)
    classifier = TopicClassifier.from_pretrained(model_dir)
    settings = classifier.settings
    room = settings.max_length - len(classifier.tokens.specials)
    results: dict = {"window_tokens": settings.max_length, "variants": {}}
    for part in ("dev", "test"):
        dataset = splits[part]
        lengths = [len(classifier.tokens.ids(prepare_text(t, ti, settings)))
                   for t, ti in zip(dataset["text"], dataset["title"])]
        long_idx = [i for i, n in enumerate(lengths) if n > room]
        macro_f1 = _reading_scorer(classifier, dataset.select(long_idx))
        results[f"{part}_articles"], results[f"{part}_long_articles"] = len(dataset), len(long_idx)
        for title_every in (True, False):
            settings.max_windows, settings.title_in_every_window = max(WINDOW_COUNTS), title_every
            scores, owner, rank = window_scores(classifier, [dataset["text"][i] for i in long_idx],
                                                [dataset["title"][i] for i in long_idx], batch_size)
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
        markdown_table(["reading", "dev macro-F1 (long)", "test macro-F1 (long)"], rows), "",
        f"Chosen on dev, among the windowed readings: **{best_name}**.", "",
        f"Command: `{stamp(model_dir, data, splits['test'], _split_name(config))['command']}`", ""]),
        encoding="utf-8")
    print(markdown_table(["reading", "dev macro-F1 (long)", "test macro-F1 (long)"], rows))
    print(f"chosen on dev: {best_name}")
    if apply:
        path = Path(model_dir) / TOPIC_CONFIG
        saved = json.loads(path.read_text())
        saved.update({k: best[k] for k in ("max_windows", "aggregate", "title_in_every_window")})
        atomic_write_text(path, json.dumps(saved, ensure_ascii=False, indent=2))
        print(f"{path}: reading set to {best_name}")
    return results
