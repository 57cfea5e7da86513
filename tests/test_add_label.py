"""Few-shot new labels: add-label grows a multi-label model's head by one row fitted on a handful of examples,
and the few-shot protocol measures it on a held-out label."""
import json
import subprocess
import sys

import numpy as np
import pytest
from transformers import AutoModelForSequenceClassification

from model import TopicClassifier, UserError
from model.delta import is_delta, save_delta
from training.add_label import fit_label

from .conftest import DATA


def cli(*args):
    return subprocess.run([sys.executable, "-m", "arabic_topics", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """The 40 annotated sample articles as examples (diplomacy 1) and counter-examples (diplomacy 0)."""
    labels = {r["id"]: r for r in map(json.loads, (DATA / "psd-labels.jsonl").read_text().splitlines())}
    articles = [json.loads(line) for line in (DATA / "psd.jsonl").read_text().splitlines()]
    path = tmp_path_factory.mktemp("examples") / "foreign.jsonl"
    path.write_text("".join(json.dumps({"text": a["text"], "title": a["title"], "label": labels[a["id"]]["diplomacy"]},
                                       ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    return path, [a["text"] for a in articles], [a["title"] for a in articles]


def test_added_label_is_one_more_head_row_and_leaves_the_others_alone(partial_model, examples, tmp_path):
    path, texts, titles = examples
    out = tmp_path / "grown"
    done = cli("add-label", "--model", partial_model, "--label", "foreign_affairs", "--display-name", "شؤون خارجية",
               "--examples", path, "--out", out)
    assert done.returncode == 0, done.stderr
    before = TopicClassifier.from_pretrained(partial_model, backend="fp32")
    after = TopicClassifier.from_pretrained(out, backend="fp32")
    assert after.labels == before.labels + ["foreign_affairs"]
    assert after.settings.thresholds["foreign_affairs"] == 0.5
    assert after.settings.display_names["foreign_affairs"] == "شؤون خارجية"
    old, new = before.predict_proba(texts, titles), after.predict_proba(texts, titles)
    np.testing.assert_allclose(new[:, :-1], old, atol=1e-6)  # existing labels predict exactly as before
    # The new column is the logistic regression fitted on the examples' head features, nothing else.
    features = before.head_features(texts, titles)
    weights, bias = fit_label(features, [json.loads(line)["label"] for line in path.read_text().splitlines()])
    np.testing.assert_allclose(new[:, -1], 1 / (1 + np.exp(-(features @ weights + bias))), atol=1e-5)
    plain = AutoModelForSequenceClassification.from_pretrained(out)  # still an ordinary checkpoint
    assert plain.config.id2label[len(after.labels) - 1] == "foreign_affairs"
    assert plain(**after.tokenizer(texts[:2], return_tensors="pt", padding=True, truncation=True,
                                       max_length=64)).logits.shape == (2, 8)


def test_a_light_model_stays_light(partial_model, tiny_base, examples, tmp_path):
    path, texts, titles = examples
    source = TopicClassifier.from_pretrained(partial_model, backend="fp32")
    light = save_delta(source.model, (partial_model / "topic_config.json").read_text(), str(tiny_base), tmp_path / "d")
    done = cli("add-label", "--model", light, "--label", "foreign_affairs", "--examples", path, "--out", tmp_path / "g")
    assert done.returncode == 0, done.stderr
    assert is_delta(tmp_path / "g")
    grown = TopicClassifier.from_pretrained(tmp_path / "g", backend="fp32")
    assert grown.labels[-1] == "foreign_affairs"
    np.testing.assert_allclose(grown.predict_proba(texts, titles)[:, :-1],
                               source.predict_proba(texts, titles), atol=2e-2)  # fp16 delta storage


def test_bad_requests_get_one_line(partial_model, trained, examples, tmp_path):
    path, _, _ = examples
    only_positive = tmp_path / "pos.jsonl"
    only_positive.write_text('{"text": "نص عن الصحة العامة", "label": 1}\n' * 5, encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "نص", "label": 1}\n{"text": \n', encoding="utf-8")
    cases = [(partial_model, "security", path, "already has a label"),
             (trained, "foreign_affairs", path, "multi-label models only"),
             (partial_model, "health", only_positive, "at least 2 examples and 2 counter-examples"),
             (partial_model, "health", broken, "broken.jsonl:2: not JSON")]
    for model, label, file, message in cases:
        done = cli("add-label", "--model", model, "--label", label, "--examples", file, "--out", tmp_path / "x")
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert done.stderr.strip().count("\n") == 0 and not (tmp_path / "x").exists()


def test_few_shot_protocol_on_a_held_out_label(trained, partial_model, tmp_path):
    from eval.few_shot import few_shot

    corpus = tmp_path / "corpus.jsonl"
    rows = [json.loads(line) for line in (DATA / "psd.jsonl").read_text().splitlines()]
    corpus.write_text("".join(json.dumps({"id": r["id"], "title": r["title"], "text": r["text"],
                                          "label": r["section"]}, ensure_ascii=False) + "\n" for r in rows))
    test_ids = tmp_path / "test.txt"
    test_ids.write_text("\n".join(r["id"] for r in rows[::3]))
    result = few_shot(trained, str(corpus), str(DATA / "psd-labels.jsonl"), "diplomacy", str(test_ids),
                      tmp_path / "report", shots=(2, 3), seeds=2)
    assert [r["k"] for r in result["rows"]] == [2, 3, None]
    assert result["test_articles"] == len(rows[::3])
    assert all(0 <= r[key] <= 1 for r in result["rows"] for key in ("ours_f1_mean", "tfidf_f1_mean"))
    assert "| 2 + 2 |" in (tmp_path / "report" / "report.md").read_text()
    with pytest.raises(UserError, match="hold out a label"):
        few_shot(partial_model, str(corpus), str(DATA / "psd-labels.jsonl"), "politics", str(test_ids), tmp_path / "r2")
