"""Models are written atomically and a damaged model directory is refused with one clear error."""
import json
import shutil

import pytest

from model import TopicClassifier, UserError


@pytest.fixture
def copy(trained, tmp_path):
    out = tmp_path / "model"
    shutil.copytree(trained, out)
    return out


def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_truncated_weights_are_refused(copy):
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(UserError, match="cannot load the model"):
        TopicClassifier.from_pretrained(copy)


def test_garbled_weights_header_is_refused(copy):
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[8:40] = b"\xff" * 32
    weights.write_bytes(bytes(data))
    with pytest.raises(UserError, match="cannot load the model"):
        TopicClassifier.from_pretrained(copy)


def test_missing_config_is_refused(copy):
    (copy / "config.json").unlink()
    with pytest.raises(UserError, match="is not a topic model directory"):
        TopicClassifier.from_pretrained(copy)


def test_id2label_that_does_not_match_the_head_is_refused(copy):
    def drop_one(config):
        config["id2label"] = {k: v for k, v in config["id2label"].items() if k != "0"}
        config["id2label"] = {str(i): v for i, v in enumerate(config["id2label"].values())}
        config["label2id"] = {v: int(k) for k, v in config["id2label"].items()}
    _edit_json(copy / "config.json", drop_one)
    with pytest.raises(UserError, match="names 5 labels \\(id2label\\) but the classification head has 6 outputs"):
        TopicClassifier.from_pretrained(copy)


def test_settings_from_a_newer_version_are_refused(copy):
    _edit_json(copy / "topic_config.json", lambda s: s.update(format_version=99))
    with pytest.raises(UserError, match="newer arabic-news-topics"):
        TopicClassifier.from_pretrained(copy)
    _edit_json(copy / "topic_config.json", lambda s: s.update(format_version=1, attention_pooling=True))
    with pytest.raises(UserError, match="unknown settings attention_pooling"):
        TopicClassifier.from_pretrained(copy)
    (copy / "topic_config.json").write_text("{not json")
    with pytest.raises(UserError, match="topic_config.json: unreadable"):
        TopicClassifier.from_pretrained(copy)


def test_an_interrupted_save_leaves_the_old_model_in_place(copy, monkeypatch):
    clf = TopicClassifier.from_pretrained(copy)
    before = sorted(p.name for p in copy.iterdir())
    probs = clf.predict_proba(["نص عن الاقتصاد"])

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(clf.tokenizer, "save_pretrained", full_disk)
    with pytest.raises(OSError):
        clf.save_pretrained(copy)
    assert sorted(p.name for p in copy.iterdir()) == before
    assert [p.name for p in copy.parent.iterdir() if p.name.startswith(".")] == []  # no temporary left over
    assert (TopicClassifier.from_pretrained(copy).predict_proba(["نص عن الاقتصاد"]) == probs).all()
