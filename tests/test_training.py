"""Training end to end on a tiny BERT built in the test, with the real ANT and annotated samples."""
import json

import numpy as np
import pytest
import torch
import yaml
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from model import TopicClassifier, TopicSettings, UserError, prepare_text
from training import train as train_module
from training.config import TrainConfig, parse_args
from training.corpus import read_corpus
from training.metrics import single_label_scores
from training.data import load_splits
from training.train import build_model, train

from .conftest import DATA, tiny_config


def test_checkpoint_directory_holds_everything(trained):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "topic_config.json",
                 "training_config.yaml", "data_summary.json", "metrics.json", "README.md"):
        assert (trained / name).is_file(), name
    assert not (trained / "checkpoints").exists() and not (trained / ".saving").exists()
    summary = json.loads((trained / "data_summary.json").read_text())
    assert summary["dedup"]["conflicting_label_groups"] == 1
    assert summary["split"]["train"] + summary["split"]["dev"] + summary["split"]["test"] == 37
    card = (trained / "README.md").read_text()
    assert "## Metrics" in card and "technology" in card


def test_the_scores_reported_are_the_saved_models_on_its_dev_and_test_splits(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    splits, _ = load_splits(parse_args(["--config", str(trained / "training_config.yaml")]))
    classifier = TopicClassifier.from_pretrained(trained, backend="fp32")
    for name in ("dev", "test"):
        part = splits[name]
        probs = classifier.predict_proba(list(part["text"]), list(part["title"]))
        predicted = [classifier.labels[i] for i in probs.argmax(1)]
        assert metrics[name] == pytest.approx(single_label_scores(list(part["label"]), predicted)), name


def test_save_load_predict_gives_identical_probabilities(trained, tmp_path):
    texts = read_corpus(DATA / "jawhara")["text"][:6]
    first = TopicClassifier.from_pretrained(trained, backend="fp32")
    first.save_pretrained(tmp_path / "copy")
    second = TopicClassifier.from_pretrained(tmp_path / "copy", backend="fp32")
    assert np.array_equal(first.predict_proba(texts), second.predict_proba(texts))
    results = second.predict(texts, top_k=2)
    assert len(results) == 6 and all(len(r["labels"]) == 2 and r["labels"][0] == r["label"] for r in results)
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-4 for r in results)


def test_transformers_alone_loads_the_checkpoint(trained):
    model = AutoModelForSequenceClassification.from_pretrained(trained).eval()
    tokenizer = AutoTokenizer.from_pretrained(trained)
    assert sorted(model.config.id2label.values()) == ["culture", "economy", "internationalNews", "middleEast",
                                                      "sport", "technology"]
    ours = TopicClassifier.from_pretrained(trained, backend="fp32")
    text = read_corpus(DATA / "ant")["text"][0]
    batch = tokenizer(prepare_text(text, None, ours.settings), truncation=True, max_length=64, return_tensors="pt")
    with torch.no_grad():
        plain = torch.softmax(model(**batch).logits, -1).numpy()[0]
    assert np.allclose(plain, ours.predict_proba([text])[0], atol=1e-5)


def test_training_config_is_saved_and_reloads(trained):
    config = parse_args(["--config", str(trained / "training_config.yaml"), "--epochs", "5"])
    saved = yaml.safe_load((trained / "training_config.yaml").read_text())
    assert config.epochs == 5 and config.max_length == saved["max_length"] == 64 and config.base == saved["base"]


def test_refuses_to_overwrite_a_finished_model(tiny_base, trained):
    with pytest.raises(UserError, match="already holds a trained model"):
        train(tiny_config(tiny_base, trained))


def test_overwriting_a_blended_model_leaves_only_the_new_one(tiny_base, tmp_path):
    """A blended run (its TF-IDF model in tfidf/) overwritten by one without the blend: the save replaces
    the directory (a rename onto tfidf/ used to fail after training) and no file of the old model is left to
    be read with the new one."""
    out = train(tiny_config(tiny_base, tmp_path / "m", fusion=True, epochs=1))
    assert (out / "tfidf").is_dir()
    again = train(tiny_config(tiny_base, out, fusion=False, epochs=1, overwrite=True, seed=1))
    assert not (again / "tfidf").exists() and not (again / ".replaced").exists()
    fresh = train(tiny_config(tiny_base, tmp_path / "fresh", fusion=False, epochs=1, seed=1))
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in fresh.iterdir())
    texts = read_corpus(DATA / "ant")["text"][:4]
    assert np.allclose(TopicClassifier.from_pretrained(again, backend="fp32").predict_proba(texts),
                       TopicClassifier.from_pretrained(fresh, backend="fp32").predict_proba(texts), atol=1e-6)


def test_resume_after_a_crash_before_the_final_save(tiny_base, tmp_path, monkeypatch):
    out = tmp_path / "model"

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(train_module, "save_final", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        train(tiny_config(tiny_base, out))
    assert sorted(p.name for p in (out / "checkpoints").iterdir() if p.name.startswith("checkpoint-"))
    monkeypatch.undo()
    with pytest.raises(UserError, match="unfinished run"):
        train(tiny_config(tiny_base, out))
    train(tiny_config(tiny_base, out, resume=True))
    assert (out / "model.safetensors").is_file() and not (out / "checkpoints").exists()


def test_multi_label_training_stores_thresholds(tiny_base, tmp_path):
    out = train(tiny_config(tiny_base, tmp_path / "ml", data=str(DATA / "psd.jsonl"), text_column="text",
                            title_column="title", label_column="labels", id_column="id", class_weights=True))
    settings = json.loads((out / "topic_config.json").read_text())
    assert settings["multi_label"] is True
    assert set(settings["thresholds"]) == {"politics", "security", "diplomacy", "none"}
    config = json.loads((out / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    clf = TopicClassifier.from_pretrained(out)
    probs = clf.predict_proba(["وزير الخارجية يلتقي نظيره لبحث التعاون الأمني"])[0]
    (result,) = clf.predict(["وزير الخارجية يلتقي نظيره لبحث التعاون الأمني"])
    expected = {lab for lab, p in zip(clf.labels, probs) if p >= settings["thresholds"][lab]}
    assert set(result["labels"]) == expected
    assert "subset_accuracy" in json.loads((out / "metrics.json").read_text())["dev"]


def test_freezing_embeddings_and_lower_layers(tiny_base, tmp_path):
    config = tiny_config(tiny_base, tmp_path, freeze_embeddings=True, freeze_layers=1)
    model, _, _, _ = build_model(config, ["a", "b"], multi_label=False)
    assert not model.base_model.embeddings.word_embeddings.weight.requires_grad
    assert not any(p.requires_grad for p in model.base_model.encoder.layer[0].parameters())
    assert all(p.requires_grad for p in model.base_model.encoder.layer[1].parameters())
    assert all(p.requires_grad for p in model.classifier.parameters())


def test_class_weights_follow_inverse_frequency(tmp_path):
    from training.loop import class_weights

    config = TrainConfig(data="x", class_weights=True)
    weights = class_weights(config, {"labels": [0] * 6 + [1] * 2 + [2] * 2}, 3, multi_label=False)
    # total / (labels x count): the rarest labels weigh most, and a balanced corpus would weigh 1 each
    assert weights.tolist() == pytest.approx([10 / 18, 10 / 6, 10 / 6])
    assert class_weights(TrainConfig(data="x", class_weights=False), {"labels": [0, 1]}, 2, False) is None
    assert class_weights(config, {"labels": [[1.0, 0.0]]}, 2, multi_label=True) is None


def test_settings_are_checked_however_the_config_is_built():
    with pytest.raises(UserError, match="needs --test-sources"):
        TrainConfig(data="x", split="source")
    with pytest.raises(UserError, match="unknown backend"):
        TrainConfig(data="x", backend="fp16")
    with pytest.raises(UserError, match="unknown window aggregation"):
        TopicSettings(aggregate="median")
    with pytest.raises(UserError, match="max_windows"):
        TopicSettings(max_windows=0)


def test_command_line_options(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("data: corpus\nepochs: 4\nmax_length: 200\n")
    config = parse_args(["--config", str(recipe), "--max-length", "96"])
    assert (config.data, config.epochs, config.max_length) == ("corpus", 4, 96)
    quick = parse_args(["--data", "x", "--quick", "--epochs", "1"])
    assert (quick.max_train_samples, quick.max_eval_samples, quick.max_length, quick.epochs) == (2000, 1000, 128, 1)
    recipe.write_text("data: corpus\nepoch: 4\n")
    with pytest.raises(UserError, match="unknown settings: epoch"):
        parse_args(["--config", str(recipe)])
    with pytest.raises(UserError, match="no training data"):
        parse_args([])
    with pytest.raises(UserError, match="needs --test-sources"):
        parse_args(["--data", "x", "--split", "source"])
    with pytest.raises(UserError, match="--max-windows must be at least 1"):
        parse_args(["--data", "x", "--max-windows", "0"])
    with pytest.raises(UserError, match="--window-overlap must be between 0 and 62 for windows of 128 tokens"):
        parse_args(["--data", "x", "--max-windows", "2", "--max-length", "128", "--window-overlap", "63"])
    assert parse_args(["--data", "x", "--max-length", "64"]).window_overlap == 32  # one window: overlap unused


def test_recipe_pins_the_long_article_reading(tiny_base, tmp_path):
    """The reading chosen on dev is part of the recipe, so a rerun saves the model exactly as it ships."""
    out = train(tiny_config(tiny_base, tmp_path / "r", epochs=1, max_windows=3, window_overlap=8, aggregate="max",
                            title_in_every_window=False))
    classifier = TopicClassifier.from_pretrained(out)
    settings = classifier.settings
    assert (settings.max_windows, settings.window_overlap, settings.aggregate, settings.title_in_every_window) == \
        (3, 8, "max", False)
    long_text = " ".join(read_corpus(DATA / "ant")["text"][:6])
    assert len(classifier.windows(long_text)) == 3


def test_a_read_length_is_the_saved_models_window_and_scores_dev_and_test(tiny_base, tmp_path):
    """Trained at 64 tokens, read at 40: the saved model's window, its training_config.yaml and the dev and test
    scores it reports all follow the read length (the shipped model trains at 128 and reads 120)."""
    out = train(tiny_config(tiny_base, tmp_path / "r", read_length=40))
    classifier = TopicClassifier.from_pretrained(out, backend="fp32")
    assert classifier.settings.max_length == 40
    config = parse_args(["--config", str(out / "training_config.yaml")])
    assert (config.max_length, config.read_length) == (64, 40)
    metrics = json.loads((out / "metrics.json").read_text())
    splits, _ = load_splits(config)
    for name in ("dev", "test"):
        part = splits[name]
        probs = classifier.predict_proba(list(part["text"]), list(part["title"]))
        predicted = [classifier.labels[i] for i in probs.argmax(1)]
        assert metrics[name] == pytest.approx(single_label_scores(list(part["label"]), predicted)), name
    with pytest.raises(UserError, match="--window-overlap must be between 0 and 18 for windows of 40 tokens"):
        tiny_config(tiny_base, tmp_path / "w", read_length=40, max_windows=2, window_overlap=20)


def test_same_seed_same_machine_gives_identical_models(tiny_base, trained, tmp_path):
    again = train(tiny_config(tiny_base, tmp_path / "again"))
    first, second = (json.loads((d / "metrics.json").read_text()) for d in (trained, again))
    assert {k: first[k] for k in ("dev", "test")} == {k: second[k] for k in ("dev", "test")}
    texts = read_corpus(DATA / "ant")["text"][:8]
    assert np.array_equal(TopicClassifier.from_pretrained(trained).predict_proba(texts),
                          TopicClassifier.from_pretrained(again).predict_proba(texts))
