"""Training on cached frozen layers, light (delta) model directories, and long articles read in windows."""
import json
import shutil

import numpy as np
import pytest
import torch

from model import TopicClassifier, UserError
from model.classifier import prepare_text
from arabic_topics import main as cli_main
from training.corpus import read_corpus
from training.frozen_trunk import FrozenTrunk, collate_features
from training.train import train

from .conftest import DATA, tiny_config


@pytest.fixture(scope="module")
def top_trained(tiny_base, tmp_path_factory):
    """A tiny model trained with its lower layer frozen (cached trunk), plus the folder of its trunk cache."""
    root = tmp_path_factory.mktemp("top")
    out = train(tiny_config(tiny_base, root / "model", freeze_layers=1, feature_cache=str(root / "cache")))
    return out, root / "cache"


def test_top_view_on_cached_layers_equals_the_full_model(tiny_base):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(tiny_base, num_labels=3).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    texts = read_corpus(DATA / "ant")["text"][:5]
    ids = tokenizer(texts, truncation=True, max_length=40)["input_ids"]
    with torch.no_grad():
        full = [model(input_ids=torch.tensor([x])).logits[0] for x in ids]
        trunk = FrozenTrunk(model, 1)
        hidden = trunk.encode(ids, bf16=False)
        batch = collate_features([{"inputs_embeds": h, "labels": 0} for h in hidden])
        top = trunk.detach()(inputs_embeds=batch["inputs_embeds"], attention_mask=batch["attention_mask"]).logits
    # bf16 storage of the cached states is the only difference
    assert torch.allclose(torch.stack(full), top, atol=2e-2)
    trunk.reattach()
    assert len(model.base_model.encoder.layer) == 2


def test_frozen_training_reuses_its_cache_and_only_trains_the_top(top_trained, tiny_base, tmp_path):
    out, cache = top_trained
    files = list(cache.glob("trunk-*.safetensors"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    again = train(tiny_config(tiny_base, tmp_path / "again", freeze_layers=1, feature_cache=str(cache)))
    assert files[0].stat().st_mtime_ns == stamp  # every article was found in the cache: nothing rewritten
    first, second = (json.loads((d / "metrics.json").read_text()) for d in (out, again))
    assert first["test"] == second["test"]  # same seed, same cached inputs: same model
    from transformers import AutoModelForSequenceClassification

    trained = AutoModelForSequenceClassification.from_pretrained(out).state_dict()
    base = AutoModelForSequenceClassification.from_pretrained(tiny_base, num_labels=6).state_dict()
    assert torch.equal(trained["bert.encoder.layer.0.output.dense.weight"], base["bert.encoder.layer.0.output.dense.weight"])
    assert not torch.equal(trained["bert.encoder.layer.1.output.dense.weight"], base["bert.encoder.layer.1.output.dense.weight"])


def test_delta_export_is_small_and_predicts_like_the_full_model(top_trained, tmp_path, capsys):
    out, _ = top_trained
    assert cli_main(["export", "--model", str(out), "--out", str(tmp_path / "light")]) == 0
    assert "wrote" in capsys.readouterr().out
    light = tmp_path / "light"
    assert not (light / "model.safetensors").exists()
    assert (light / "delta.safetensors").stat().st_size < (out / "model.safetensors").stat().st_size / 2
    texts = read_corpus(DATA / "jawhara")["text"][:6]
    full = TopicClassifier.from_pretrained(out, backend="fp32").predict_proba(texts)
    rebuilt = TopicClassifier.from_pretrained(light, backend="fp32").predict_proba(texts)
    assert np.allclose(full, rebuilt, atol=2e-3)  # fp16 storage of the trained tensors


def test_an_export_in_place_keeps_the_models_beside_it(top_trained, trained, tmp_path):
    """Re-exporting a fast model over a directory (train-fast.sh over model/default) keeps the model folders in
    it, teacher/ and titles/ as shipped, and drops the rest of what was there."""
    out, _ = top_trained
    home = tmp_path / "home"
    for folder in ("teacher", "titles"):
        shutil.copytree(trained, home / folder)
    (home / "stale.txt").write_text("from the model before")
    (home / "notes").mkdir()  # a folder that holds no model
    assert cli_main(["export", "--model", str(out), "--out", str(home)]) == 0
    assert (home / "delta.safetensors").is_file() and not (home / "stale.txt").exists()
    assert not (home / "notes").exists()
    for folder in ("teacher", "titles"):
        kept = TopicClassifier.from_pretrained(home / folder, backend="fp32")
        assert kept.labels == TopicClassifier.from_pretrained(trained, backend="fp32").labels


def test_ship_title_model_exports_without_the_blend_under_fp32_onnx(top_trained, tmp_path, monkeypatch):
    """training/recipes/ship_title_model.py: the light export of a run, its TF-IDF blend left out and its
    reading pinned to fp32 ONNX in both its settings and its training config; a bad run gets exit 2."""
    import runpy
    import sys

    import yaml

    monkeypatch.setenv("ARABIC_TOPICS_CACHE", str(tmp_path / "cache"))  # the ONNX export it runs under
    out, _ = top_trained
    run = tmp_path / "run"
    shutil.copytree(out, run)
    (run / "tfidf").mkdir(exist_ok=True)  # as a run whose blend training adopted
    settings = json.loads((run / "topic_config.json").read_text())
    (run / "topic_config.json").write_text(json.dumps({**settings, "fusion": {"weight": 0.7, "temperature": 4.0}}))
    recipe = yaml.safe_load((run / "training_config.yaml").read_text())
    (run / "training_config.yaml").write_text(yaml.safe_dump({**recipe, "backend": "onnx-int8"}))  # another one
    script = "training/recipes/ship_title_model.py"
    monkeypatch.setattr(sys, "argv", [script, str(run), str(tmp_path / "titles")])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(script, run_name="__main__")
    assert done.value.code == 0
    shipped = tmp_path / "titles"
    assert (shipped / "delta.safetensors").is_file() and not (shipped / "tfidf").exists()
    reads = json.loads((shipped / "topic_config.json").read_text())
    assert reads["backend"] == "onnx" and "fusion" not in reads
    assert yaml.safe_load((shipped / "training_config.yaml").read_text())["backend"] == "onnx"
    assert TopicClassifier.from_pretrained(shipped).backend == "onnx"
    monkeypatch.setattr(sys, "argv", [script, str(tmp_path / "nothing"), str(tmp_path / "x")])
    with pytest.raises(SystemExit) as refused:
        runpy.run_path(script, run_name="__main__")
    assert refused.value.code == 2 and not (tmp_path / "x").exists()


def test_delta_refuses_a_changed_base(top_trained, tiny_base, tmp_path):
    out, _ = top_trained
    base = tmp_path / "base"
    shutil.copytree(tiny_base, base)
    assert cli_main(["export", "--model", str(out), "--base", str(base), "--out", str(tmp_path / "light")]) == 0
    from safetensors.torch import load_file, save_file

    weights = load_file(str(base / "model.safetensors"))
    name = next(iter(weights))
    weights[name] = weights[name] + 1
    save_file(weights, str(base / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(UserError, match="checksum"):
        TopicClassifier.from_pretrained(tmp_path / "light")


def test_delta_from_a_newer_format_is_refused(top_trained, tmp_path):
    out, _ = top_trained
    assert cli_main(["export", "--model", str(out), "--out", str(tmp_path / "light")]) == 0
    manifest = tmp_path / "light" / "delta.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format_version": 99}))
    with pytest.raises(UserError, match="newer"):
        TopicClassifier.from_pretrained(tmp_path / "light")


def _windowed(model_dir, **settings):
    classifier = TopicClassifier.from_pretrained(model_dir, backend="fp32")
    for key, value in settings.items():
        setattr(classifier.settings, key, value)
    return classifier


def test_long_articles_are_read_in_windows(trained):
    text = read_corpus(DATA / "ant")["text"][0] * 4
    head = _windowed(trained)
    windowed = _windowed(trained, max_windows=3, window_overlap=8)
    first, *rest = windowed.windows(text, "عنوان المقال")
    assert head.windows(text, "عنوان المقال") == [first]  # window one is the head, tokenised as in training
    assert len(rest) == 2 and all(len(w) <= 64 for w in rest)
    title = windowed.tokenizer("عنوان المقال", add_special_tokens=False)["input_ids"]
    assert all(w[1 : 1 + len(title)] == title for w in rest)  # the title leads every window
    # mean aggregation = the mean of the windows' own logits
    per_window = [windowed.model(input_ids=torch.tensor([w])).logits[0].detach().numpy()
                  for w in windowed.windows(text, "عنوان المقال")]
    assert np.allclose(windowed.logits([text], ["عنوان المقال"])[0], np.mean(per_window, axis=0), atol=1e-5)
    maxed = _windowed(trained, max_windows=3, window_overlap=8, aggregate="max")
    assert np.allclose(maxed.logits([text], ["عنوان المقال"])[0], np.max(per_window, axis=0), atol=1e-5)


def test_windows_are_bounded_for_a_huge_text(trained):
    classifier = _windowed(trained, max_windows=4)
    huge = "كلمة " * 1_000_000  # 5 MB
    assert len(classifier.windows(huge)) == 4
    assert len(classifier.predict([huge, "نص قصير"])) == 2


@pytest.mark.parametrize("text", [read_corpus(DATA / "ant")["text"][1] * 8,  # Arabic: ~3.5 characters a token
                                  " ".join(str(n) for n in range(5000))])  # dense: under 2 characters a token
def test_windows_hold_the_ids_of_the_whole_text(trained, text):
    """Only a prefix of a long text is tokenised; the windows still hold exactly the whole text's ids."""
    classifier = _windowed(trained, max_windows=3, window_overlap=8)
    whole = classifier.tokens.ids(prepare_text(text, None, classifier.settings))  # prefix, normalisation
    windows = [w[1 : len(w) - 1] for w in classifier.windows(text)]  # without <s> and </s>
    assert len(windows) == 3 and windows[0] == whole[: len(windows[0])]
    for window in windows[1:]:  # the body part of a later window (the title and prefix may lead it)
        body = window[-20:]
        assert any(whole[start : start + 20] == body for start in range(len(whole)))


def test_long_article_protocol_compares_readings_and_applies_the_dev_choice(trained, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(trained, model)
    assert cli_main(["evaluate", "--model", str(model), "--data", str(DATA / "ant"), "--out", str(tmp_path / "r"),
                     "--long-articles", "--apply"]) == 0
    result = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert result["test_long_articles"] > 0 and "head (truncated)" in result["variants"]
    assert len(result["variants"]) == 1 + 2 * 3 * 2
    chosen = result["variants"][result["chosen_on_dev"]]
    settings = json.loads((model / "topic_config.json").read_text())
    assert settings["max_windows"] == chosen["max_windows"] and settings["aggregate"] == chosen["aggregate"]
    assert chosen["max_windows"] > 1  # long articles are read whole: the head is the comparison, not a choice
    assert "Chosen on dev, among the windowed readings" in (tmp_path / "r" / "report.md").read_text()
