"""Partial multi-label training: section labels decide some labels, annotations others, the rest is unknown."""
import json

from pathlib import Path

import numpy as np
import torch

from model import TopicClassifier
from training import partial_labels
from training.corpus import TableColumns, read_table
from training.hygiene import LabelMapping
from training.loop import TopicTrainer

from .conftest import DATA, RECIPE_MAP



def _sections():
    return read_table(DATA / "psd.jsonl", TableColumns(text="text", title="title", label="section", id="id"))


def test_sections_decide_only_the_labels_they_map(half_annotated):
    path, records = half_annotated
    mapping = LabelMapping.from_yaml(RECIPE_MAP)
    data = partial_labels.attach(mapping.apply(_sections()), mapping.targets, partial_labels.read_annotations(path))
    rows = {r["id"]: r for r in data}
    annotated, plain = records[0], records[30]
    assert set(rows[plain["id"]]["known"]) == {"culture", "economy", "sports", "technology"}
    assert set(rows[annotated["id"]]["known"]) == {"culture", "economy", "sports", "technology", "politics",
                                                  "security", "diplomacy"}
    assert {lab for lab in ("politics", "security", "diplomacy") if annotated[lab]} <= set(rows[annotated["id"]]["label"])
    sport = [r for r in data if r["id"].split("-")[1] == "sport"]
    assert all("sports" in r["label"] for r in sport)


def test_unknown_labels_do_not_reach_the_loss():
    model = torch.nn.Linear(4, 3)

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return type("Out", (), {"logits": self.inner(x)})()

    trainer = TopicTrainer.__new__(TopicTrainer)  # only compute_loss is exercised: no Trainer state needed
    trainer.class_weights = None
    x = torch.randn(5, 4)
    mask = torch.tensor([[1.0, 1.0, 0.0]] * 5)
    labels = torch.zeros(5, 3)
    first = trainer.compute_loss(Wrapped(), {"x": x, "labels": labels.clone(), "label_mask": mask})
    labels[:, 2] = 1.0  # change only the unknown column
    second = trainer.compute_loss(Wrapped(), {"x": x, "labels": labels.clone(), "label_mask": mask})
    assert torch.equal(first, second)
    labels[:, 0] = 1.0  # a known column does count
    third = trainer.compute_loss(Wrapped(), {"x": x, "labels": labels.clone(), "label_mask": mask})
    assert not torch.equal(first, third)


def test_partial_training_gives_a_multi_label_model_over_every_label(partial_model):
    settings = json.loads((partial_model / "topic_config.json").read_text())
    assert settings["multi_label"]
    assert set(settings["thresholds"]) == {"culture", "diplomacy", "economy", "politics", "security", "sports",
                                           "technology"}
    metrics = json.loads((partial_model / "metrics.json").read_text())
    assert 0 <= metrics["dev"]["macro_f1"] <= 1 and "per_label_f1" in metrics["test"]
    result = TopicClassifier.from_pretrained(partial_model).predict(["وزير الخارجية يبحث مع نظيره الأمريكي"])[0]
    assert set(result["labels"]) <= set(result["scores"]) and result["label"] in result["scores"]


def test_pseudo_labels_fill_only_unknown_labels(partial_model, half_annotated):
    path, records = half_annotated
    mapping = LabelMapping.from_yaml(RECIPE_MAP)
    data = partial_labels.attach(mapping.apply(_sections()), mapping.targets, partial_labels.read_annotations(path))
    filled = partial_labels.pseudo_label(data, TopicClassifier.from_pretrained(partial_model))
    for before, after in zip(data, filled):
        assert len(after["known"]) == 7
        for lab in before["known"]:  # what was known stays exactly as it was
            assert (lab in before["label"]) == (lab in after["label"])
    teacher = TopicClassifier.from_pretrained(partial_model)
    probs = teacher.predict_proba(list(data["text"]), list(data["title"]))
    j = teacher.labels.index("security")
    row = next(i for i, r in enumerate(data) if "security" not in r["known"])
    assert ("security" in filled[row]["label"]) == bool(probs[row, j] >= teacher.settings.thresholds["security"])
    assert np.isfinite(probs).all()


def test_evaluation_trains_the_baseline_only_on_fully_labelled_articles(partial_model, tmp_path):
    from eval.protocols import model_split
    from training.data import load_splits
    from eval.protocols import training_config

    metrics = model_split(partial_model, str(DATA / "psd.jsonl"), tmp_path / "report")
    splits, _ = load_splits(training_config(partial_model))
    fully = sum(len(r["known"]) == 7 for part in ("train", "dev") for r in splits[part])
    assert 0 < fully < len(splits["train"]) + len(splits["dev"])
    assert metrics["baseline"]["train_articles"] == fully


def test_a_multi_label_model_is_scored_as_a_topic_classifier(partial_model, tmp_path):
    import pytest

    from eval.protocols import TopicView, _model_splits, as_topics
    from model import UserError

    topics = ["culture", "economy", "politics", "sports", "technology"]
    classifier = TopicClassifier.from_pretrained(partial_model)
    view = TopicView(classifier, topics, residual="politics")
    assert view.labels == topics
    texts = [r["text"] for r in _sections()][:4]
    probs, coarse = classifier.predict_proba(texts), view.predict_proba(texts)
    others = [classifier.labels.index(lab) for lab in ("culture", "economy", "sports", "technology")]
    assert np.allclose(coarse[:, 2], 1 - probs[:, others].max(1))  # the model's own politics output is a facet
    assert np.allclose(coarse[:, 1], probs[:, classifier.labels.index("economy")])

    metrics = as_topics(partial_model, str(DATA / "psd.jsonl"), "training/recipes/topics.yaml", "politics",
                        tmp_path / "topics")
    splits, _ = _model_splits(partial_model, str(DATA / "psd.jsonl"))
    assert not metrics["multi_label"] and metrics["data"]["articles"] == len(splits["test"])
    gold_topics = {lab for lab, scores in metrics["model"]["per_label"].items() if scores["support"]}
    assert gold_topics <= {"politics", "economy", "technology"}  # the sample's sections (predictions may be any)
    assert metrics["baseline"]["train_articles"] == len(splits["train"])
    assert (tmp_path / "topics" / "report.md").is_file()
    with pytest.raises(UserError, match="no label for the topics religion"):
        TopicView(classifier, topics + ["religion"], residual="politics")


def test_an_ids_split_is_scored_on_topics_without_its_annotated_articles(partial_model, tmp_path):
    """A recipe whose ids file is the whole test split (the fast default's): the topics are scored on the
    test articles that carry no annotation, not on none of them."""
    import shutil

    import yaml

    from eval.protocols import _model_splits, as_topics

    splits, _ = _model_splits(partial_model, str(DATA / "psd.jsonl"))
    model = Path(shutil.copytree(partial_model, tmp_path / "ids-model"))
    (model / "test_ids.txt").write_text("\n".join(splits["test"]["id"]) + "\n")
    config = yaml.safe_load((model / "training_config.yaml").read_text())
    (model / "training_config.yaml").write_text(yaml.safe_dump({**config, "split": "ids", "test_ids": "test_ids.txt"}))
    ids_splits, _ = _model_splits(model, str(DATA / "psd.jsonl"))
    assert sorted(ids_splits["test"]["id"]) == sorted(splits["test"]["id"])
    sections_only = [known for known in ids_splits["test"]["known"] if "politics" not in known]  # not annotated
    assert 0 < len(sections_only) < len(ids_splits["test"])
    metrics = as_topics(model, str(DATA / "psd.jsonl"), "training/recipes/topics.yaml", "politics", tmp_path / "out")
    assert metrics["data"]["articles"] == len(sections_only)

    # a named ids file is what is left out, whatever the split (the fixed annotated ids of the documented figures)
    fixed = ids_splits["test"]["id"][:3]
    (tmp_path / "fixed.txt").write_text("\n".join(fixed) + "\n")
    metrics = as_topics(model, str(DATA / "psd.jsonl"), "training/recipes/topics.yaml", "politics", tmp_path / "fixed",
                        leave_out=str(tmp_path / "fixed.txt"))
    assert metrics["data"]["articles"] == len(ids_splits["test"]) - 3


def test_evaluation_scores_the_fixed_ids_and_ignores_the_teacher(partial_model, half_annotated, tmp_path):
    """A student's evaluation: the fixed annotated test ids only, and a baseline that learns from annotations,
    not from the teacher's pseudo-labels (which would make every training article look fully labelled)."""
    import shutil

    import yaml

    from eval.protocols import model_split

    _, records = half_annotated
    fixed = [r["id"] for r in records[20:26]]
    (tmp_path / "ids.txt").write_text("\n".join(fixed) + "\n")
    student = tmp_path / "student"
    shutil.copytree(partial_model, student)
    config = yaml.safe_load((student / "training_config.yaml").read_text())
    config.update(test_ids=str(tmp_path / "ids.txt"), pseudo_labels_from=str(partial_model))
    (student / "training_config.yaml").write_text(yaml.safe_dump(config))

    metrics = model_split(student, str(DATA / "psd.jsonl"), tmp_path / "report")
    assert metrics["data"]["articles"] == len(fixed)
    assert metrics["baseline"]["train_articles"] <= 20  # only annotated articles know every label


def test_long_article_readings_are_compared_for_a_multi_label_model(partial_model, tmp_path):
    from eval.protocols import long_articles

    result = long_articles(partial_model, str(DATA / "psd.jsonl"), tmp_path / "long")
    assert result["test_long_articles"] > 0 and len(result["variants"]) == 1 + 2 * 3 * 2
    assert all(0 <= v["dev_macro_f1"] <= 1 and 0 <= v["test_macro_f1"] <= 1 for v in result["variants"].values())
