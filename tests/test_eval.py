"""Evaluation reports on real samples: tiny trained models, the TF-IDF baseline, the protocols (scoring any
labelled file: test_evaluate_file.py)."""
import csv
import json

import matplotlib.image
import numpy as np
import pytest

from eval import TfidfBaseline, evaluate
from eval.evaluate import calibration
from eval.protocols import evaluate_file, leave_one_source_out, model_split
from model import TopicClassifier, UserError
from training.corpus import TableColumns, read_corpus, read_table
from training.hygiene import clean
from training.train import train

from .conftest import DATA, tiny_config

REPORT_FILES = ("metrics.json", "report.md", "confusion_matrix.png", "reliability.png", "errors.csv")


def test_calibration_error_on_known_values():
    confidence = np.array([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, True, True, False, True, False])
    ece, bins = calibration(confidence, correct, bins=10)
    # bin 0.9-1.0: accuracy 0.75 vs confidence 0.95; bin 0.5-0.6: 0.5 vs 0.55
    assert ece == pytest.approx(4 / 6 * 0.20 + 2 / 6 * 0.05)
    assert [b["count"] for b in bins] == [0, 0, 0, 0, 0, 2, 0, 0, 0, 4]


def test_model_split_report_has_every_file_and_the_baseline(trained, tmp_path):
    metrics = model_split(trained, str(DATA / "ant"), tmp_path)
    for name in REPORT_FILES:
        assert (tmp_path / name).stat().st_size > 0, name
    for image in ("confusion_matrix.png", "reliability.png"):
        assert matplotlib.image.imread(tmp_path / image).shape[0] > 300
    saved = json.loads((tmp_path / "metrics.json").read_text())
    model = saved["model"]
    for key in ("accuracy", "macro_f1", "micro_f1", "weighted_f1", "ece", "per_label", "confusion_matrix",
                "confusion_matrix_normalised", "per_source", "top_confusions"):
        assert key in model, key
    test_size = saved["data"]["articles"]
    assert np.array(model["confusion_matrix"]).sum() == test_size
    assert sum(s["articles"] for s in model["per_source"].values()) == test_size
    assert sum(s["support"] for s in model["per_label"].values()) == test_size
    with open(tmp_path / "errors.csv", encoding="utf-8") as handle:
        errors = list(csv.DictReader(handle))
    assert len(errors) == round(test_size * (1 - model["accuracy"]))
    assert all(e["gold"] != e["predicted"] for e in errors)
    assert "macro_f1" in saved["baseline"] and saved["baseline"]["train_articles"] > 0
    assert "ece" not in saved["baseline"]  # no probabilities, no calibration
    stamp = saved["stamp"]
    assert len(stamp["model_sha256"]) == 64 and len(stamp["data_sha256"]) == 64 and "seed 0" in stamp["split"]
    assert {"torch", "transformers", "scikit-learn"} <= set(stamp["versions"])
    report = (tmp_path / "report.md").read_text()
    assert "TF-IDF + LinearSVC baseline" in report and "![confusion matrix](confusion_matrix.png)" in report
    assert metrics["model"]["macro_f1"] == model["macro_f1"]


def test_report_is_stable_for_the_same_model_and_data(trained, tmp_path):
    first = model_split(trained, str(DATA / "ant"), tmp_path / "a", baseline=False)
    second = model_split(trained, str(DATA / "ant"), tmp_path / "b", baseline=False)
    assert first["model"]["macro_f1"] == second["model"]["macro_f1"]
    assert first["stamp"]["data_sha256"] == second["stamp"]["data_sha256"]


def test_baseline_saves_without_pickle_and_reloads_identically(tmp_path):
    data, _ = clean(read_corpus(DATA / "ant"))  # without the duplicate filed under two labels
    baseline = TfidfBaseline().fit(list(data["text"]), list(data["label"]))
    baseline.save(tmp_path)
    np.load(tmp_path / "baseline.npz", allow_pickle=False)  # raises if anything needed pickle
    again = TfidfBaseline.load(tmp_path)
    texts = list(read_corpus(DATA / "jawhara")["text"])
    assert np.allclose(baseline.decision_function(texts), again.decision_function(texts))
    assert baseline.predict(texts) == again.predict(texts)
    assert baseline.predict(list(data["text"])) == list(data["label"])  # a linear SVM fits its training set
    with pytest.raises(UserError, match="not a saved baseline"):
        TfidfBaseline.load(tmp_path / "nothing")


def test_multi_label_report(tiny_base, tmp_path):
    out = train(tiny_config(tiny_base, tmp_path / "ml", data=str(DATA / "psd.jsonl"), text_column="text",
                            title_column="title", label_column="labels", id_column="id"))
    metrics = model_split(out, str(DATA / "psd.jsonl"), tmp_path / "report")
    for key in ("micro_f1", "macro_f1", "hamming_loss", "subset_accuracy", "per_label", "per_label_confusion"):
        assert key in metrics["model"], key
    assert set(metrics["model"]["per_label"]) == {"diplomacy", "none", "politics", "security"}
    # one 2x2 matrix per label, each counting every test article once; no gold x predicted table
    assert "confusion_matrix" not in metrics["model"]
    for label, matrix in metrics["model"]["per_label_confusion"].items():
        assert np.array(matrix).shape == (2, 2) and np.array(matrix).sum() == metrics["stamp"]["data_articles"], label
    assert "hamming_loss" in metrics["baseline"]
    for name in REPORT_FILES:
        assert (tmp_path / "report" / name).is_file()


def test_multi_label_baseline_one_vs_rest():
    data = read_table(DATA / "psd.jsonl", TableColumns(text="text", title="title", label="labels", id="id"))
    baseline = TfidfBaseline().fit(list(data["text"]), list(data["label"]))
    assert baseline.multi_label and baseline.labels == ["diplomacy", "none", "politics", "security"]
    assert [sorted(p) for p in baseline.predict(list(data["text"]))] == [sorted(g) for g in data["label"]]


def test_leave_one_source_out(tmp_path):
    result = leave_one_source_out(str(DATA / "ant"), tmp_path)
    assert {s.lower() for s in result["folds"]} == {"alarabia", "bbc", "cnn", "france24", "skynews"}
    assert sum(f["test_articles"] for f in result["folds"].values()) == 37
    report = (tmp_path / "report.md").read_text()
    assert "| held-out source |" in report and json.loads((tmp_path / "metrics.json").read_text())["folds"]


def test_another_corpus_is_scored_whole_through_a_label_mapping(trained, tmp_path):
    mapping = tmp_path / "jawhara.yaml"
    mapping.write_text("labels: {internationalNews: internationalNews, sport: sport, economy: economy, "
                       "culture: culture, technology: technology}\nunmapped: drop\n")
    metrics = evaluate_file(str(DATA / "jawhara"), trained, tmp_path / "report", label_map=str(mapping))
    assert metrics["data"]["articles"] == 10  # 2 articles in each of the 5 shared categories
    assert set(metrics["model"]["per_source"]) == {"Jawhara FM"}
    assert "baseline" in metrics  # trained on the model's own train split: its corpus is here


def test_evaluate_in_memory(trained):
    classifier = TopicClassifier.from_pretrained(trained)
    data = read_corpus(DATA / "ant")
    metrics = evaluate(classifier, data, baseline=False)
    assert metrics["data"]["articles"] == 38 and "baseline" not in metrics


def test_multi_label_calibration_compares_probabilities_with_gold_labels():
    from datasets import Dataset

    from eval.evaluate import score_multi_label

    gold = np.array([[1, 0], [0, 1], [1, 1]])
    data = Dataset.from_dict({"id": ["a", "b", "c"], "source": ["x"] * 3, "text": ["t"] * 3})
    sure, _ = score_multi_label(gold, gold, gold.astype(float), ["p", "q"], data)
    assert sure["ece"] == pytest.approx(0.0)  # certain and right about every label, negatives included
    hedged, _ = score_multi_label(gold, gold, np.full(gold.shape, 0.5), ["p", "q"], data)
    assert hedged["ece"] == pytest.approx(abs(4 / 6 - 0.5))
