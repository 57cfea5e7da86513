"""What TopicClassifier.predict and loading promise a Python user: quiet loading, None for the default model,
titles paired one per text, and for multi-label models the best label always, flagged when it misses its threshold."""
import pytest

from model import TopicClassifier, UserError
from model.delta import save_delta

from .conftest import LOAD_REPORT, stderr_of_python

ARABIC = "أعلنت وزارة الاقتصاد عن خطة جديدة لدعم الصادرات"


@pytest.fixture(scope="module")
def clf(trained):
    return TopicClassifier.from_pretrained(trained)


@pytest.fixture(scope="module")
def multi(partial_model):
    return TopicClassifier.from_pretrained(partial_model)


def test_loading_saved_and_light_models_prints_no_load_report(trained, tiny_base, tmp_path):
    light = save_delta(TopicClassifier.from_pretrained(trained).model, (trained / "topic_config.json").read_text(),
                       str(tiny_base), tmp_path / "light")
    err = stderr_of_python(f"""
from transformers.utils import logging
from model import TopicClassifier
before = logging.get_verbosity()
TopicClassifier.from_pretrained({str(trained)!r})
TopicClassifier.from_pretrained({str(light)!r})  # its base has no classifier: the delta supplies it
assert logging.get_verbosity() == before
logging.get_logger("transformers.modeling_utils").warning("a real warning")
""")
    assert not [word for word in LOAD_REPORT if word in err], err
    assert "a real warning" in err  # only the loads were quiet: transformers' warnings still reach the user


def test_none_means_the_default_model(trained, clf, monkeypatch):
    monkeypatch.setenv("ARABIC_TOPICS_MODEL", str(trained))
    assert TopicClassifier.from_pretrained(None).predict(ARABIC) == clf.predict(ARABIC)
    assert TopicClassifier.from_pretrained().labels == clf.labels


def test_titles_pair_one_per_text(clf):
    assert clf.predict(ARABIC, titles="عنوان") == clf.predict([ARABIC], titles=["عنوان"])
    assert clf.predict([ARABIC, ARABIC], titles=["عنوان", None])[1] == clf.predict(ARABIC)[0]
    for call in (clf.predict, clf.predict_proba, clf.logits):
        with pytest.raises(UserError, match="titles is one string but texts is a list of 2"):
            call([ARABIC, ARABIC], titles="عنوان")
        with pytest.raises(UserError, match="1 titles for 2 texts"):
            call([ARABIC, ARABIC], titles=["عنوان"])


def with_thresholds(clf, thresholds):
    clf.settings.thresholds = {**clf.settings.thresholds, **thresholds}
    return clf


def test_a_multi_label_result_keeps_its_best_label_when_none_passes(partial_model):
    clf = TopicClassifier.from_pretrained(partial_model)
    probs = clf.predict_proba(ARABIC)[0]
    ranked = [clf.labels[i] for i in probs.argsort()[::-1]]
    with_thresholds(clf, {label: 1.01 for label in clf.labels})  # above any probability
    result = clf.predict(ARABIC)[0]
    assert result["label"] == ranked[0] and result["labels"] == [] and result["low_confidence"]
    assert result["score"] == max(result["scores"].values()) == pytest.approx(probs.max(), abs=1e-6)
    # The second most probable label passes its own threshold: it is in labels, the best label stays label.
    with_thresholds(clf, {ranked[1]: 0.0})
    result = clf.predict(ARABIC)[0]
    assert result["label"] == ranked[0] and result["labels"] == [ranked[1]] and result["low_confidence"]
    with_thresholds(clf, {ranked[0]: 0.0})
    result = clf.predict(ARABIC)[0]
    assert result["labels"] == [ranked[0], ranked[1]] and not result["low_confidence"]


def test_top_k_is_refused_for_a_multi_label_model(multi, clf):
    with pytest.raises(UserError, match="top_k applies to single-label models"):
        multi.predict(ARABIC, top_k=2)
    assert len(clf.predict(ARABIC, top_k=2)[0]["labels"]) == 2
    assert len(clf.predict(ARABIC)[0]["labels"]) == 1

