"""`arabic-topics evaluate` on any labelled file: every row scored, labels matched by name, the shipped model by
default, one-line errors. Files are made in tmp_path from the committed real samples (tests/data)."""
import csv
import json
import shutil

import numpy as np
import pytest
import yaml
from sklearn.metrics import accuracy_score, f1_score

from eval import evaluate_file
from model import TopicClassifier
from arabic_topics import main
from training.corpus import read_corpus

from .conftest import DATA

TOPICS = {"internationalNews": "politics", "middleEast": "politics", "sport": "sports", "economy": "economy",
          "culture": "culture", "technology": "technology"}


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "title", "label"])
        writer.writeheader()
        writer.writerows({"text": r["text"], "title": r["title"], "label": r["label"]} for r in rows)
    return path


def ant_rows(relabel=None):
    rows = list(read_corpus(DATA / "ant"))
    return [{**r, "label": relabel[r["label"]]} for r in rows] if relabel else rows


def evaluate_cli(capsys, *args):
    code = main(["evaluate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> bool:
    """Exactly one error line, the last one (datasets' progress bars may come before it), and no traceback."""
    lines = err.strip().splitlines()
    return sum(line.startswith("arabic-topics:") for line in lines) == 1 and lines[-1].startswith(
        "arabic-topics: error: ") and "Traceback" not in err


def test_every_row_is_scored_and_duplicates_are_reported(trained, tmp_path, capsys):
    rows = ant_rows()
    rows += rows[:2]  # two exact copies, on top of the sample's pair of identical bodies under two labels
    data = write_csv(tmp_path / "my_test.csv", rows)
    code, out, err = evaluate_cli(capsys, "--model", trained, "--data", data, "--out", tmp_path / "r")
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["data"]["articles"] == len(rows) == 40
    assert np.array(metrics["model"]["confusion_matrix"]).sum() == 40
    assert metrics["data"]["duplicates"]["rows"] == 3 and metrics["data"]["duplicates"]["groups"] == 3
    assert metrics["data"]["duplicates"]["conflicting_label_groups"] == 1
    assert "whole file" in metrics["stamp"]["split"]
    # the model's corpus (the ANT sample) is here: the baseline learns its train split, which the file overlaps
    assert metrics["baseline"]["train_articles"] > 0 and 0 < metrics["data"]["also_in_baseline_training"] < 40
    report = (tmp_path / "r" / "report.md").read_text()
    assert "40 test articles" in report and "3 article(s) repeat another" in report
    assert "40 articles: model macro-F1" in out and "3 exact duplicate(s)" in out


def test_the_model_macro_f1_is_sklearns_over_the_gold_labels(trained, tmp_path):
    rows = [r for r in ant_rows() if r["label"] in ("sport", "economy", "culture")]
    metrics = evaluate_file(str(write_csv(tmp_path / "three.csv", rows)), trained, baseline=False)
    classifier = TopicClassifier.from_pretrained(trained)
    probs = classifier.predict_proba([r["text"] for r in rows], [r["title"] for r in rows])
    predicted = [classifier.labels[i] for i in probs.argmax(1)]
    gold = [r["label"] for r in rows]
    assert metrics["model"]["accuracy"] == pytest.approx(accuracy_score(gold, predicted))
    assert metrics["model"]["macro_f1"] == pytest.approx(
        f1_score(gold, predicted, labels=["culture", "economy", "sport"], average="macro", zero_division=0))
    assert metrics["no_baseline"].startswith("not asked for")


def test_labels_the_model_lacks_are_one_line_naming_both_sets(trained, tmp_path, capsys):
    rows = ant_rows(TOPICS)
    data = write_csv(tmp_path / "topics.csv", rows)
    code, out, err = evaluate_cli(capsys, "--model", trained, "--data", data, "--out", tmp_path / "r")
    assert code == 2 and out == "" and one_error_line(err), err
    assert "--label-map" in err
    assert "file labels: culture, economy, politics, sports, technology" in err
    assert "model labels: culture, economy, internationalNews, middleEast, sport, technology" in err
    assert not (tmp_path / "r" / "metrics.json").exists()
    # mapped onto the model's labels, the same file is scored
    mapping = tmp_path / "map.yaml"
    mapping.write_text(yaml.safe_dump({"labels": {"sports": "sport", "politics": "internationalNews"}}))
    code, _, err = evaluate_cli(capsys, "--model", trained, "--data", data, "--label-map", mapping,
                                "--out", tmp_path / "r")
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    politics = sum(r["label"] == "politics" for r in rows)
    assert metrics["data"]["articles"] == 38 and metrics["model"]["per_label"]["internationalNews"]["support"] == politics


def test_single_label_gold_on_a_multi_label_model_scores_its_top_label(partial_model, tmp_path):
    records = [json.loads(line) for line in (DATA / "psd.jsonl").read_text().splitlines()]
    rows = [{"text": r["text"], "title": r["title"], "label": TOPICS[r["section"]]} for r in records]
    metrics = evaluate_file(str(write_csv(tmp_path / "sections.csv", rows)), partial_model, tmp_path / "r")
    classifier = TopicClassifier.from_pretrained(partial_model)
    assert classifier.settings.multi_label and not metrics["multi_label"]
    probs = classifier.predict_proba([r["text"] for r in rows], [r["title"] for r in rows])
    predicted = [classifier.labels[i] for i in probs.argmax(1)]
    gold = [r["label"] for r in rows]
    assert metrics["data"]["articles"] == 40
    assert metrics["model"]["accuracy"] == pytest.approx(accuracy_score(gold, predicted))
    assert metrics["model"]["macro_f1"] == pytest.approx(
        f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0))
    assert "most probable label" in metrics["stamp"]["split"]
    # its training labels are several per article: a baseline learning them would answer another question
    assert "give --baseline-data" in metrics["no_baseline"] and "baseline" not in metrics
    assert "No TF-IDF baseline" in (tmp_path / "r" / "report.md").read_text()


def test_baseline_data_trains_the_baseline(trained, tmp_path):
    mapping = tmp_path / "jawhara.yaml"
    mapping.write_text("labels: {internationalNews: internationalNews, sport: sport, economy: economy, "
                       "culture: culture, technology: technology}\nunmapped: drop\n")
    train_file = write_csv(tmp_path / "train.csv", ant_rows())
    metrics = evaluate_file(str(DATA / "jawhara"), trained, tmp_path / "r", label_map=str(mapping),
                            baseline_data=str(train_file))
    assert metrics["data"]["articles"] == 10 and metrics["data"]["read"] == 19
    assert metrics["data"]["dropped_by_label_map"] == 9
    # read like the scored file, through the same mapping: middleEast dropped (6), the duplicate body counted once
    assert metrics["baseline"]["train_articles"] == 38 - 6 - 1
    assert str(train_file) in metrics["baseline"]["trained_on"] and metrics["data"]["also_in_baseline_training"] == 0


def test_no_baseline_when_the_models_corpus_is_not_here(trained, tmp_path):
    model = shutil.copytree(trained, tmp_path / "model")
    config = yaml.safe_load((model / "training_config.yaml").read_text())
    config["data"] = str(tmp_path / "elsewhere" / "ant")
    (model / "training_config.yaml").write_text(yaml.safe_dump(config))
    metrics = evaluate_file(str(write_csv(tmp_path / "t.csv", ant_rows())), model, tmp_path / "r")
    assert "baseline" not in metrics and "elsewhere" in metrics["no_baseline"]
    assert "No TF-IDF baseline: the model's training data" in (tmp_path / "r" / "report.md").read_text()


def test_the_models_own_corpus_is_scored_on_its_test_split(trained, tmp_path, capsys):
    code, _, err = evaluate_cli(capsys, "--model", trained, "--data", DATA / "ant", "--out", tmp_path / "r")
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["data"]["articles"] < 37 and "random stratified" in metrics["stamp"]["split"]
    code, _, err = evaluate_cli(capsys, "--model", trained, "--data", DATA / "ant", "--format", "folders",
                                "--out", tmp_path / "r2")
    assert code == 2 and "training corpus" in err and "--format" in err and one_error_line(err)


def test_the_default_model_is_used_when_none_is_named(trained, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARABIC_TOPICS_MODEL", str(trained))
    data = write_csv(tmp_path / "t.csv", ant_rows()[:12])
    code, _, err = evaluate_cli(capsys, "--data", data, "--out", tmp_path / "r", "--no-baseline")
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["stamp"]["model"] == str(trained) and metrics["data"]["articles"] == 12


@pytest.mark.parametrize("rows, message", [
    ([{"text": " ", "title": "", "label": "sport"}], "without text"),
    ([{"text": "نص", "title": "", "label": "sport|economy"}], "the model is single-label"),
])
def test_bad_files_get_one_line_and_exit_2(trained, tmp_path, capsys, rows, message):
    good = ant_rows()[:3]
    data = write_csv(tmp_path / "bad.csv", good + rows)
    code, out, err = evaluate_cli(capsys, "--model", trained, "--data", data, "--out", tmp_path / "r")
    assert code == 2 and message in err and one_error_line(err), err
    assert not (tmp_path / "r").exists()


def test_without_out_the_metrics_are_printed_and_no_file_is_written(trained, tmp_path, capsys, monkeypatch):
    data = write_csv(tmp_path / "t.csv", ant_rows())
    monkeypatch.chdir(tmp_path)
    code, out, err = evaluate_cli(capsys, "--model", trained, "--data", data)
    assert code == 0, err
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
    metrics = evaluate_file(str(data), trained)  # the same scores, as the Python API returns them
    header, *rows, total = out.splitlines()
    assert header.split() == ["label", "precision", "recall", "F1", "support"]
    assert [row.split() for row in rows] == [
        [label, *(f"{s[k]:.4f}" for k in ("precision", "recall", "f1")), str(s["support"])]
        for label, s in metrics["model"]["per_label"].items()]
    assert total.startswith(f"38 articles: model macro-F1 {metrics['model']['macro_f1']:.4f} (accuracy "
                            f"{metrics['model']['accuracy']:.4f}")
    code, out, err = evaluate_cli(capsys, "--loso", "--data", data)
    assert code == 2 and out == "" and one_error_line(err) and "--loso writes its report: give --out DIR" in err
