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


# ------------------------------------------------------------------------------------------- the second model
@pytest.fixture
def with_second(partial_model, tmp_path):
    """The tiny multi-label model with a second model of the same labels (its own weights with a shifted head,
    and other thresholds) in its subfolder second/, reading texts of up to 16 tokens."""
    import json
    import shutil

    import torch

    home = tmp_path / "model"
    shutil.copytree(partial_model, home)
    other = TopicClassifier.from_pretrained(partial_model, backend="fp32")
    with torch.no_grad():
        other.head_layer().bias += torch.linspace(-2, 2, len(other.labels))
    other.settings = dataclasses.replace(other.settings, thresholds={label: 0.3 for label in other.labels})
    other.save_pretrained(home / "second")
    config = json.loads((home / "topic_config.json").read_text())
    config.update(second_model="second", second_model_tokens=16)
    (home / "topic_config.json").write_text(json.dumps(config))
    return home


def logit(p):
    return np.log(p / (1 - p))


SHORT, LONG = "فاز المنتخب في المباراة", " ".join(TEXTS * 6)


def test_a_short_text_is_read_by_the_second_model(with_second):
    clf = TopicClassifier.from_pretrained(with_second, backend="fp32")
    reader = TopicClassifier.from_pretrained(with_second / "second", backend="fp32")
    assert len(clf.windows(SHORT)[0]) <= 16 < len(clf.windows(LONG)[0])
    # its decisions are the second model's own, under this model's thresholds
    assert clf.predict(SHORT)[0]["labels"] == reader.predict(SHORT)[0]["labels"]
    moved = logit(reader.predict_proba(SHORT)[0]) + clf._second_offset(reader)
    assert np.allclose(logit(clf.predict_proba(SHORT)[0]), moved, atol=1e-3)
    # a longer text is this model's own reading, alone or beside a short one
    plain = dataclasses.replace(clf.settings, second_model="", second_model_tokens=0)
    own = TopicClassifier(clf.model, clf.tokenizer, plain)
    assert np.allclose(clf.predict_proba(LONG), own.predict_proba(LONG), atol=1e-6)
    assert not np.allclose(clf.predict_proba(SHORT), own.predict_proba(SHORT), atol=1e-2)  # the other model read it
    mixed = clf.predict_proba([SHORT, LONG, SHORT])
    assert np.allclose(mixed, np.stack([clf.predict_proba(x)[0] for x in (SHORT, LONG, SHORT)]), atol=1e-6)


def test_a_text_whose_best_topics_lie_close_goes_to_the_second_model(with_second):
    """second_model_margin: a text this model reads with its two best topic scores less than the margin apart
    is the second model's; one with a wider gap stays this model's."""
    clf = TopicClassifier.from_pretrained(with_second, backend="fp32")
    reader = TopicClassifier.from_pretrained(with_second / "second", backend="fp32")
    own = TopicClassifier(clf.model, clf.tokenizer, dataclasses.replace(clf.settings, second_model="", second_model_tokens=0))
    texts = [" ".join([t] * 8) for t in TEXTS]  # all longer than 16 tokens
    gaps = np.diff(np.sort(own.topic_proba(own.predict_proba(texts)), axis=1)[:, -2:], axis=1)[:, 0]
    cut = float(np.median(gaps))
    clf.settings = dataclasses.replace(clf.settings, second_model_tokens=0, second_model_margin=cut)
    got = clf.predict_proba(texts)
    second = logit(reader.predict_proba(texts)) + clf._second_offset(reader)
    for n, gap in enumerate(gaps):
        expected = 1 / (1 + np.exp(-second[n])) if gap < cut else own.predict_proba(texts[n])[0]
        assert np.allclose(got[n], expected, atol=1e-5), (n, gap, cut)
    assert (gaps < cut).any() and (gaps >= cut).any()


def test_a_model_built_in_memory_cannot_find_its_helper_models(with_title):
    """The helper models live in the model's directory: a classifier built from objects names the fix."""
    loaded = TopicClassifier.from_pretrained(with_title, backend="fp32")
    built = TopicClassifier(loaded.model, loaded.tokenizer, loaded.settings)
    with pytest.raises(UserError, match=r"second model \(second/\), but was not loaded from its directory"):
        built.predict(SHORT)
    with pytest.raises(UserError, match=r"title model \(titles/\), but was not loaded"):
        built.title_reader()


def test_a_second_model_needs_the_same_labels(with_second, trained):
    import shutil

    shutil.rmtree(with_second / "second")
    shutil.copytree(trained, with_second / "second")  # the single-label tiny model: other labels
    clf = TopicClassifier.from_pretrained(with_second, backend="fp32")
    with pytest.raises(UserError, match="its labels .* are not the labels wanted"):
        clf.predict(SHORT)
    with pytest.raises(UserError, match="second_model needs"):
        TopicSettings(second_model="second")
    with pytest.raises(UserError, match="second_model needs"):
        TopicSettings(second_model_margin=0.5)


def test_an_onnx_export_takes_its_second_model_along(with_second, tmp_path, monkeypatch):
    monkeypatch.setenv("ARABIC_TOPICS_CACHE", str(tmp_path / "cache"))
    clf = TopicClassifier.from_pretrained(with_second, backend="fp32")
    out = clf.save_onnx(tmp_path / "export")
    exported = TopicClassifier.from_pretrained(out)
    assert (out / "second" / "config.json").is_file()
    assert exported.predict(SHORT)[0]["labels"] == clf.predict(SHORT)[0]["labels"]


def test_a_label_added_to_a_model_with_a_second_model_is_read_by_the_model_alone(with_second):
    """The second model has no row for a label added later: the grown model reads every text itself."""
    from training.add_label import add_label

    clf = TopicClassifier.from_pretrained(with_second, backend="fp32")
    grown = add_label(clf, "health", np.zeros(clf.head_layer().in_features, dtype=np.float32), 0.0)
    assert grown.labels[-1] == "health" and grown.settings.second_model == ""
    assert len(grown.predict(SHORT)[0]["scores"]) == len(grown.labels)  # no second model with other labels


# -------------------------------------------------------------------------------------------- the title model
@pytest.fixture
def with_title(with_second):
    """with_second read with the shipped model's topics, plus a title model in titles/: a single-label model
    over those topics (the tiny model's head cut to their rows, shifted), read for texts of up to 16 tokens."""
    import json

    import torch

    title = TopicClassifier.from_pretrained(with_second, backend="fp32")
    names = ["politics", *reversed(TOPICS)]  # another order than the topics: matched by name
    keep = [title.labels.index(name) for name in names]
    old = title.head_layer()
    head = torch.nn.Linear(old.in_features, len(keep))
    with torch.no_grad():
        head.weight.copy_(old.weight[keep])
        head.bias.copy_(old.bias[keep] + torch.linspace(1.5, -1.5, len(keep)))
    title.model.classifier = head
    title.model.config.update({"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)},
                               "num_labels": len(names)})
    title.settings = dataclasses.replace(title.settings, multi_label=False, thresholds={}, second_model="",
                                         second_model_tokens=0)
    title.save_pretrained(with_second / "titles")
    config = json.loads((with_second / "topic_config.json").read_text())
    config.update(topics=TOPICS, residual_topic="politics", title_model="titles", title_model_weight=0.6)
    (with_second / "topic_config.json").write_text(json.dumps(config))
    return with_second


def test_a_short_text_takes_its_label_from_the_mean_of_the_title_and_second_models(with_title):
    clf = TopicClassifier.from_pretrained(with_title, backend="fp32")
    second = TopicClassifier.from_pretrained(with_title / "second", backend="fp32")
    title = TopicClassifier.from_pretrained(with_title / "titles", backend="fp32")
    assert title.labels != clf.topics and sorted(title.labels) == sorted(clf.topics)
    texts = [SHORT, *(" ".join(t.split()[:3]) for t in TEXTS)]
    assert all(len(clf.windows(t)[0]) <= 16 for t in texts)
    own = clf.topic_proba(second.predict_proba(texts)[:, [second.labels.index(x) for x in clf.labels]])
    theirs = title.predict_proba(texts)[:, [title.labels.index(x) for x in clf.topics]]
    mean = 0.6 * theirs + 0.4 * own
    got = clf.predict(texts)
    topic = clf.topic_proba(clf.predict_proba(texts))
    assert [r["label"] for r in got] == [clf.topics[i] for i in mean.argmax(1)]
    assert (np.argsort(-topic, 1) == np.argsort(-mean, 1)).all()  # the mean's ranking of every topic
    best = mean[:, :-1].max(1, keepdims=True)
    assert np.allclose(topic[:, -1], (mean[:, -1:] / (best + mean[:, -1:]))[:, 0], atol=1e-5)
    assert np.allclose(topic[:, :-1], mean[:, :-1] / (best + mean[:, -1:]), atol=1e-5)
    # the facets and politics stay the second model's, moved onto this model's thresholds
    facets = [clf.labels.index(x) for x in clf.labels if x not in TOPICS]
    moved = logit(second.predict_proba(texts)[:, [second.labels.index(x) for x in clf.labels]]) \
        + clf._second_offset(second)
    assert np.allclose(logit(clf.predict_proba(texts))[:, facets], moved[:, facets], atol=1e-3)
    # a longer text is untouched, and a text's scores do not depend on what shares its batch
    plain = TopicClassifier.from_pretrained(with_title, backend="fp32")
    plain.settings = dataclasses.replace(plain.settings, title_model="", title_model_weight=0.0)
    assert np.allclose(clf.predict_proba(LONG), plain.predict_proba(LONG), atol=1e-6)
    mixed = clf.predict_proba([SHORT, LONG, SHORT])
    assert np.allclose(mixed, np.stack([clf.predict_proba(x)[0] for x in (SHORT, LONG, SHORT)]), atol=1e-6)


def test_an_article_handed_over_keeps_the_second_models_own_topic_answer(with_title):
    """With topics set apart from facets, an article the margin hands over takes its topic scores, and so
    its `label`, from the second model's own reading; moving them onto this model's thresholds would change
    them. Its facets are the second model's decisions, moved onto this model's thresholds."""
    clf = TopicClassifier.from_pretrained(with_title, backend="fp32")
    second = TopicClassifier.from_pretrained(with_title / "second", backend="fp32")
    clf.settings = dataclasses.replace(clf.settings, second_model_margin=1.0)  # every article is handed over
    texts = [" ".join([t] * 8) for t in TEXTS]  # all longer than the 16 tokens of the title route
    raw = second.predict_proba(texts)[:, [second.labels.index(x) for x in clf.labels]]
    offset = clf._second_offset(second)
    assert (np.abs(offset[[clf.labels.index(t) for t in TOPICS]]) > 0.1).all()  # moving would change them
    own = clf.topic_proba(raw)
    got = clf.predict(texts)
    assert [r["label"] for r in got] == [clf.topics[i] for i in own.argmax(1)]
    assert np.allclose(clf.topic_proba(clf.predict_proba(texts)), own, atol=1e-5)
    facets = [clf.labels.index(x) for x in clf.labels if x not in TOPICS]
    assert np.allclose(logit(clf.predict_proba(texts))[:, facets], (logit(raw) + offset)[:, facets], atol=1e-3)


def test_companions_loads_the_second_and_title_models_before_any_text_needs_them(with_title):
    """What a server or the benchmark calls before serving or timing: both models are loaded, and predict
    then uses those very objects (nothing is loaded on the first short text)."""
    clf = TopicClassifier.from_pretrained(with_title, backend="fp32")
    second, title = clf.companions()
    assert second.labels == clf.labels and title.labels == ["politics", *reversed(TOPICS)]
    assert clf.second_reader() is second and clf.title_reader() is title
    clf.predict(SHORT)
    assert clf.second_reader() is second and clf.title_reader() is title
    alone = TopicClassifier.from_pretrained(with_title, backend="fp32")
    alone.settings = alone.settings.alone()
    assert alone.companions() == []


def test_a_title_model_needs_the_topics_and_a_length(with_title):
    import shutil

    shutil.rmtree(with_title / "titles")
    shutil.copytree(with_title / "second", with_title / "titles")  # multi-label, with the facets
    with pytest.raises(UserError, match="title model .* cannot serve a single-label one"):
        TopicClassifier.from_pretrained(with_title, backend="fp32").predict(SHORT)
    with pytest.raises(UserError, match="title_model needs title_model_weight"):
        TopicSettings(second_model="second", second_model_tokens=16, title_model="titles")
    with pytest.raises(UserError, match="title_model needs title_model_weight"):
        TopicSettings(second_model="second", second_model_tokens=16, title_model="titles", title_model_weight=1.5)
    with pytest.raises(UserError, match="set second_model_tokens"):
        TopicSettings(second_model="second", second_model_margin=0.5, title_model="titles", title_model_weight=0.5)


def test_a_label_added_to_a_model_with_a_title_model_is_read_by_the_model_alone(with_title):
    from training.add_label import add_label

    clf = TopicClassifier.from_pretrained(with_title, backend="fp32")
    grown = add_label(clf, "health", np.zeros(clf.head_layer().in_features, dtype=np.float32), 0.0)
    assert grown.settings.title_model == "" and grown.settings.second_model == ""
    assert len(grown.predict(SHORT)[0]["scores"]) == len(grown.labels)


def test_an_onnx_export_takes_its_title_model_along(with_title, tmp_path, monkeypatch):
    monkeypatch.setenv("ARABIC_TOPICS_CACHE", str(tmp_path / "cache"))
    clf = TopicClassifier.from_pretrained(with_title, backend="fp32")
    exported = TopicClassifier.from_pretrained(clf.save_onnx(tmp_path / "export"))
    assert exported.settings.title_model == "titles" and (tmp_path / "export" / "titles" / "config.json").is_file()
    assert exported.predict(SHORT)[0]["label"] == clf.predict(SHORT)[0]["label"]


def test_companions_export_and_load_side_by_side_from_an_empty_cache(with_title, tmp_path, monkeypatch):
    """companions() loads the two models in threads; their ONNX exports, made on first use, are made one at a
    time (tracing is not thread-safe), and the scores are those of the PyTorch models."""
    monkeypatch.setenv("ARABIC_TOPICS_CACHE", str(tmp_path))
    clf = TopicClassifier.from_pretrained(with_title, backend="onnx")
    second, title = clf.companions()
    assert second.backend == title.backend == "onnx"
    assert len([p for p in (tmp_path / "onnx").iterdir() if (p / "export.json").is_file()]) == 3
    reference = TopicClassifier.from_pretrained(with_title, backend="fp32")
    texts = [SHORT, LONG]
    assert np.allclose(clf.predict_proba(texts), reference.predict_proba(texts), atol=1e-4)
