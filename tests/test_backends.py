"""Inference backends (model/backends.py) and the ONNX export, on the tiny real model."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from model import TopicClassifier, UserError
from training.corpus import read_corpus

from .conftest import DATA


@pytest.fixture(scope="module")
def texts():
    return read_corpus(DATA / "ant")["text"][:24]


@pytest.fixture(scope="module")
def reference(trained, texts):
    return TopicClassifier.from_pretrained(trained, backend="fp32").predict_proba(texts)


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "arabic_topics", *map(str, args)], capture_output=True,
                          text=True, env=env)


@pytest.mark.parametrize("backend, tolerance", [("bf16", 0.05), ("onnx", 1e-4), ("onnx-int8", 0.05)])
def test_backends_agree_with_fp32(trained, texts, reference, backend, tolerance, tmp_path, monkeypatch):
    monkeypatch.setenv("ARABIC_TOPICS_CACHE", str(tmp_path))
    classifier = TopicClassifier.from_pretrained(trained, backend=backend)
    assert classifier.backend == backend
    probs = classifier.predict_proba(texts)
    assert np.abs(probs - reference).max() < tolerance
    assert (probs.argmax(1) == reference.argmax(1)).mean() >= 0.9


def test_onnx_export_is_cached_once(trained, tmp_path, monkeypatch):
    monkeypatch.setenv("ARABIC_TOPICS_CACHE", str(tmp_path))
    TopicClassifier.from_pretrained(trained, backend="onnx")
    exported = list((tmp_path / "onnx").glob("*-onnx-v*/model.onnx"))
    assert len(exported) == 1
    stamp = exported[0].stat().st_mtime_ns
    TopicClassifier.from_pretrained(trained, backend="onnx")
    assert exported[0].stat().st_mtime_ns == stamp


def test_export_onnx_cli_then_predict(trained, texts, reference, tmp_path):
    out = tmp_path / "onnx-int8"
    done = cli("export", "--model", trained, "--format", "onnx", "--int8", "--out", out)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["onnx-int8"]  # no temporary folder left behind
    classifier = TopicClassifier.from_pretrained(out)
    assert classifier.backend == "onnx" and classifier.model is None
    assert (classifier.predict_proba(texts).argmax(1) == reference.argmax(1)).mean() >= 0.9
    article = tmp_path / "a.txt"
    article.write_text(texts[0], encoding="utf-8")
    shown = cli("predict", "--model", out, "--json", article)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["label"] == classifier.labels[int(reference[0].argmax())]


def test_backend_misuse_is_refused(trained, tmp_path):
    with pytest.raises(UserError, match="unknown backend"):
        TopicClassifier.from_pretrained(trained, backend="fp16")
    out = TopicClassifier.from_pretrained(trained, backend="fp32").save_onnx(tmp_path / "x")
    with pytest.raises(UserError, match="only ONNX Runtime"):
        TopicClassifier.from_pretrained(out, backend="bf16")
    with pytest.raises(UserError, match="cannot be saved"):
        TopicClassifier.from_pretrained(out).save_pretrained(tmp_path / "y")
    done = cli("export", "--model", trained, "--int8", "--out", tmp_path / "z")
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "--int8" in done.stderr


@pytest.mark.parametrize("backend", ["fp32", "bf16", "onnx", "onnx-int8"])
def test_scores_do_not_depend_on_the_batch(trained, texts, backend, tmp_path, monkeypatch):
    """Same article, same scores (within 1e-4): alone, in a batch, reversed, in batches of another size."""
    monkeypatch.setenv("ARABIC_TOPICS_CACHE", str(tmp_path))
    classifier = TopicClassifier.from_pretrained(trained, backend=backend)
    mixed = list(texts[:10]) + ["خبر عن مباراة كرة القدم"]
    together = classifier.predict_proba(mixed)
    alone = np.stack([classifier.predict_proba([text])[0] for text in mixed])
    for other in (alone, classifier.predict_proba(mixed[::-1])[::-1], classifier.predict_proba(mixed, batch_size=4)):
        assert np.abs(other - together).max() <= 1e-4


def test_export_check_trusts_size_and_mtime_and_hashes_otherwise(tmp_path):
    from model import backends

    graph = tmp_path / backends.ONNX_FILE
    graph.write_bytes(b"graph bytes")
    backends.write_export_manifest(tmp_path)
    assert backends.export_ready(tmp_path)
    manifest = json.loads((tmp_path / backends.EXPORT_MANIFEST).read_text())
    # size and mtime as recorded: the graph is not read again (a wrong recorded sha256 goes unnoticed)
    (tmp_path / backends.EXPORT_MANIFEST).write_text(json.dumps({**manifest, backends.ONNX_FILE: "0" * 64}))
    assert backends.export_ready(tmp_path)
    # the same size written again, so another mtime: hashed, and refused
    (tmp_path / backends.EXPORT_MANIFEST).write_text(json.dumps(manifest))
    graph.write_bytes(b"graph BYTES")
    os.utime(graph, ns=(manifest["mtime_ns"] + 10**9, manifest["mtime_ns"] + 10**9))
    assert not backends.export_ready(tmp_path)
    # a manifest from before size and mtime were recorded: hashed, and brought up to date when the graph
    # checks out, so that the next load does not hash
    graph.write_bytes(b"graph bytes")
    (tmp_path / backends.EXPORT_MANIFEST).write_text(json.dumps({backends.ONNX_FILE: manifest[backends.ONNX_FILE]}))
    assert backends.export_ready(tmp_path)
    assert json.loads((tmp_path / backends.EXPORT_MANIFEST).read_text())["size"] == graph.stat().st_size
    (tmp_path / backends.EXPORT_MANIFEST).write_text("[]")
    assert not backends.export_ready(tmp_path)


def test_models_with_one_tokenizer_file_share_its_parse(trained, tmp_path):
    import shutil

    from model.tokens import Tokens

    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    first, second = Tokens.from_dir(trained), Tokens.from_dir(copy)
    assert first.backend is second.backend
    text = json.loads((copy / "tokenizer.json").read_text(encoding="utf-8"))
    text["truncation"] = {"direction": "Right", "max_length": 7, "strategy": "LongestFirst", "stride": 0}
    (copy / "tokenizer.json").write_text(json.dumps(text), encoding="utf-8")
    other = Tokens.from_dir(copy)
    assert other.backend is not first.backend
    words = "نص عربي طويل " * 20
    assert other.ids(words) == first.ids(words)  # windows are cut by the classifier, never by the tokenizer
