"""The one meaning of `label` (TopicClassifier.predict): always the best topic, never None; facets only in
`labels`; a best topic below its own threshold is kept and flagged `low_confidence`; a single-label model's
`label` is its most probable class. On the tiny multi-label model read with the shipped model's topics."""
import dataclasses

import numpy as np
import pytest

from model import TopicClassifier, UserError
from model.classifier import TopicSettings

TEXTS = ["أعلنت وزارة الاقتصاد عن خطة جديدة لدعم الصادرات", "فاز المنتخب الوطني في مباراة كرة القدم",
         "قال وزير الخارجية إن المحادثات مع الوفد مستمرة", "افتتح مهرجان السينما دورته الجديدة"]
TOPICS = ["economy", "sports", "culture", "technology"]


@pytest.fixture
def topical(partial_model):
    """The tiny multi-label model read as the shipped one is: four topics and politics as the residual topic."""
    clf = TopicClassifier.from_pretrained(partial_model)
    clf.settings = dataclasses.replace(clf.settings, topics=TOPICS, residual_topic="politics")
    return clf


def row(clf, **probs) -> np.ndarray:
    return np.array([probs.get(label, 0.0) for label in clf.labels], dtype=np.float32)


def test_label_is_the_best_topic_and_facets_stay_in_labels(topical):
    topical.settings.thresholds = {label: 0.5 for label in topical.labels}
    # security is the most probable label, but it is a facet: the answer is the best topic, economy
    result = topical._result(row(topical, security=0.99, politics=0.9, economy=0.8, sports=0.1), 1)
    assert result["label"] == "economy" and result["score"] == pytest.approx(0.8)
    assert result["labels"] == ["security", "politics", "economy"] and not result["low_confidence"]
    # no topical label is high: the residual topic wins with 1 - the highest of them
    result = topical._result(row(topical, security=0.99, politics=0.9, economy=0.1, sports=0.2), 1)
    assert result["label"] == "politics" and result["score"] == pytest.approx(0.8)
    assert not result["low_confidence"]  # the politics output passes its own threshold


def test_a_best_topic_below_its_threshold_is_kept_and_flagged(topical):
    topical.settings.thresholds = {label: 0.5 for label in topical.labels}
    result = topical._result(row(topical, politics=0.1, sports=0.3), 1)  # residual politics 0.7, its output 0.1
    assert result["label"] == "politics" and result["labels"] == [] and result["low_confidence"]
    topical.settings.thresholds = {**topical.settings.thresholds, "sports": 0.9}
    result = topical._result(row(topical, politics=0.9, sports=0.8), 1)  # sports best, under its own 0.9
    assert result["label"] == "sports" and result["labels"] == ["politics"] and result["low_confidence"]


def test_predict_never_returns_an_empty_label(topical):
    topical.settings.thresholds = {label: 1.01 for label in topical.labels}  # above any probability
    for result, probs in zip(topical.predict(TEXTS), topical.predict_proba(TEXTS)):
        assert result["label"] in topical.topics and result["labels"] == [] and result["low_confidence"]
        scores = topical.topic_proba(probs[None])[0]
        assert result["label"] == topical.topics[int(scores.argmax())]
        assert result["score"] == pytest.approx(scores.max(), abs=1e-6)


def test_evaluation_reads_the_label_predict_returns(topical):
    """decide(top_label=True), which the benchmark and the topic evaluation score, is predict's `label`."""
    labels = [r["label"] for r in topical.predict(TEXTS)]
    assert [d[0] for d in topical.decide(topical.predict_proba(TEXTS), top_label=True)] == labels
    from eval.protocols import TopicView

    view = TopicView(topical, TOPICS + ["politics"], "politics")
    assert [view.labels[i] for i in view.predict_proba(TEXTS).argmax(1)] == labels


def test_without_topics_every_label_is_a_topic(partial_model):
    clf = TopicClassifier.from_pretrained(partial_model)
    assert clf.topics == clf.labels
    probs = clf.predict_proba(TEXTS)
    assert [r["label"] for r in clf.predict(TEXTS)] == [clf.labels[i] for i in probs.argmax(1)]


def test_a_single_label_model_answers_its_most_probable_class(trained):
    clf = TopicClassifier.from_pretrained(trained)
    probs = clf.predict_proba(TEXTS)
    for result, p in zip(clf.predict(TEXTS), probs):
        assert result["label"] == clf.labels[int(p.argmax())] and result["labels"] == [result["label"]]
        assert not result["low_confidence"]


def test_topic_settings_are_checked(partial_model):
    with pytest.raises(UserError, match="is also one of the topics"):
        TopicSettings(topics=["economy", "politics"], residual_topic="politics")
    with pytest.raises(UserError, match="needs the topics"):
        TopicSettings(residual_topic="politics")
    clf = TopicClassifier.from_pretrained(partial_model)
    with pytest.raises(UserError, match="no label for: religion"):
        TopicClassifier(clf.model, clf.tokenizer, dataclasses.replace(clf.settings, topics=["religion"]))


def test_the_shipped_model_reads_its_topics():
    """Its settings: four topics and politics as the residual topic; security and diplomacy are facets."""
    from model import default_model_dir
    from model.classifier import TOPIC_CONFIG

    import json

    settings = TopicSettings.from_dict(json.loads((default_model_dir() / TOPIC_CONFIG).read_text(encoding="utf-8")))
    assert settings.topics == TOPICS and settings.residual_topic == "politics"


def test_the_cli_shows_every_score_with_the_same_precision(partial_model, tmp_path):
    import json
    import re
    import shutil
    import subprocess

    copy = tmp_path / "open"
    shutil.copytree(partial_model, copy)
    config = json.loads((copy / "topic_config.json").read_text())
    config["thresholds"] = {label: 0.0 for label in config["thresholds"]}  # every label shown
    (copy / "topic_config.json").write_text(json.dumps(config))
    article = tmp_path / "article.txt"
    article.write_text(TEXTS[0], encoding="utf-8")
    out = subprocess.run(["arabic-topics", "predict", "--model", str(copy), str(article)], capture_output=True,
                         text=True, check=True).stdout.splitlines()[1]
    shown = re.findall(r"\d+\.\d+", out)
    assert len(shown) == len(config["thresholds"]) and all(len(x.split(".")[1]) == 3 for x in shown), out
