"""Few-shot new labels, measured: how well `arabic-topics add-label` learns a label from k examples.

A label the model never saw (e.g. diplomacy for a topic model trained without it) is fitted on k examples
and k counter-examples drawn from the annotated articles outside the fixed test ids, exactly as add-label
fits it (training/add_label.py), and scored on the test ids; repeated over seeds, beside the TF-IDF +
LinearSVC baseline given the same examples, and both fitted on the whole pool as a reference.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from model import TopicClassifier, UserError
from model.atomic import atomic_write_text
from training.add_label import fit_label
from training.corpus import TableColumns, read_corpus
from training.partial_labels import first_copies, read_annotations, read_ids

from model.tfidf import TfidfBaseline, baseline_texts


def annotated_articles(data: str, annotations: str, label: str):
    """(dataset of the annotated articles, their 0/1 values of `label`)."""
    decided = {i: values[label] for i, values in read_annotations(annotations).items() if label in values}
    if not decided:
        raise UserError(f"{annotations}: no article is annotated for {label!r}")
    try:  # ANT files carry their DOCNO; a table must name its ids and titles in "id" / "title" columns
        corpus = read_corpus(data, columns=TableColumns(title="title", id="id"))
    except KeyError:
        raise UserError(f"{data}: a table corpus needs an \"id\" column to join the annotations") from None
    articles = first_copies(corpus, decided)
    return articles, np.asarray([decided[i] for i in articles["id"]], dtype=int)


def tfidf_f1(train_texts, train_y, test_texts, test_y) -> float:
    baseline = TfidfBaseline(class_weight="balanced").fit(train_texts, list(train_y))
    return float(f1_score(test_y, [int(p) for p in baseline.predict(test_texts)]))


def few_shot(model_dir: str | Path, data: str, annotations: str, label: str, test_ids: str, out_dir: str | Path,
             shots=(2, 4, 8, 16, 32), seeds: int = 5, batch_size: int = 32) -> dict:
    classifier = TopicClassifier.from_pretrained(model_dir, backend="fp32")  # as add-label fits
    if label in classifier.labels:
        raise UserError(f"{model_dir} was trained with {label!r}: hold out a label it has not seen")
    articles, y = annotated_articles(data, annotations, label)
    test_set = set(read_ids(test_ids))
    is_test = np.asarray([i in test_set for i in articles["id"]])
    if not is_test.any() or is_test.all():
        raise UserError(f"{test_ids}: the test ids must cover some but not all of the annotated articles")
    features = classifier.head_features(list(articles["text"]), list(articles["title"]), batch_size)
    texts = np.asarray(baseline_texts(articles), dtype=object)
    pool, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    positives, negatives = pool[y[pool] == 1], pool[y[pool] == 0]

    def ours(train) -> float:
        weights, bias = fit_label(features[train], y[train])
        return float(f1_score(y[test], features[test] @ weights + bias >= 0))  # sigmoid >= 0.5

    rows = []
    for k in shots:
        if k > min(len(positives), len(negatives)):
            continue
        scores = {"ours": [], "tfidf": []}
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            train = np.concatenate([rng.choice(positives, k, replace=False), rng.choice(negatives, k, replace=False)])
            scores["ours"].append(ours(train))
            scores["tfidf"].append(tfidf_f1(list(texts[train]), y[train], list(texts[test]), y[test]))
        rows.append({"examples": f"{k} + {k}", "k": k, **{f"{name}_f1_mean": float(np.mean(v))
                                                         for name, v in scores.items()},
                     **{f"{name}_f1_sd": float(np.std(v)) for name, v in scores.items()}})
    rows.append({"examples": f"all {len(pool)} ({len(positives)} + {len(negatives)})", "k": None,
                 "ours_f1_mean": ours(pool), "ours_f1_sd": 0.0,
                 "tfidf_f1_mean": tfidf_f1(list(texts[pool]), y[pool], list(texts[test]), y[test]), "tfidf_f1_sd": 0.0})
    result = {"model": str(model_dir), "label": label, "test_articles": int(len(test)),
              "test_positives": int(y[test].sum()), "seeds": seeds, "rows": rows}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "few_shot.json", json.dumps(result, indent=2, ensure_ascii=False))
    lines = [f"# Few-shot {label!r} on {Path(model_dir).name}", "",
             f"F1 of {label} on {len(test)} fixed test articles ({int(y[test].sum())} positive); "
             f"mean ± sd over {seeds} seeds of k examples + k counter-examples.", "",
             "| examples | ours (add-label) | TF-IDF + LinearSVC |", "|---|---|---|"]
    lines += [f"| {r['examples']} | {r['ours_f1_mean']:.3f} ± {r['ours_f1_sd']:.3f} | "
              f"{r['tfidf_f1_mean']:.3f} ± {r['tfidf_f1_sd']:.3f} |" for r in rows]
    atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
    print("\n".join(lines[4:]))
    return result
