"""A user's first run: official dev/test files, the recipe chosen from the data, the baseline beside the model."""
import csv
import dataclasses
import shutil
import json
import re

import numpy as np
import pytest
import yaml

from model import UserError
from training.config import TrainConfig, parse_args
from training.corpus import read_corpus
from training.recipe import length_for
from training.data import load_splits
from training.train import train

from .conftest import DATA, tiny_config

FIELDS = ("id", "title", "text", "label")


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows({k: r[k] for k in FIELDS} for r in rows)
    return path


@pytest.fixture(scope="module")
def official_files(tmp_path_factory):
    """The ANT sample as official train / dev / test files: 3 training articles repeated in test (one of them
    twice) and 2 in dev, as posts re-published across platforms are."""
    rows = [dict(r) for r in read_corpus(DATA / "ant")]
    folder = tmp_path_factory.mktemp("official")
    train_rows, dev_rows, test_rows = rows[:24], rows[24:30], rows[30:]
    test_rows = test_rows + [dict(train_rows[0], id="t-copy-0"), dict(train_rows[1], id="t-copy-1"),
                             dict(train_rows[2], id="t-copy-2"), dict(train_rows[2], id="t-copy-2b")]
    dev_rows = dev_rows + [dict(train_rows[3], id="d-copy-3"), dict(train_rows[4], id="d-copy-4")]
    leaked = {"test": sorted(r["id"] for r in train_rows[:3]), "dev": sorted(r["id"] for r in train_rows[3:5])}
    return (write_csv(folder / "train.csv", train_rows), write_csv(folder / "dev.csv", dev_rows),
            write_csv(folder / "test.csv", test_rows), leaked, len(dev_rows), len(test_rows))


def test_official_files_stay_whole_and_leaks_leave_training(tiny_base, official_files, tmp_path):
    train_csv, dev_csv, test_csv, leaked, n_dev, n_test = official_files
    config = tiny_config(tiny_base, tmp_path / "m", data=str(train_csv), dev_data=str(dev_csv),
                         test_data=str(test_csv), id_column="id")
    splits, summary = load_splits(config)
    assert (len(splits["dev"]), len(splits["test"])) == (n_dev, n_test)  # repeats inside test kept
    report = summary["dedup"]["official_files"]
    assert report["leaks_removed_from_train"] == 5
    assert {name: sorted(n["train_ids"]) for name, n in report["leaks"].items()} == leaked
    assert report["duplicates_kept_within"] == {"dev": 0, "test": 1}
    assert not set(splits["train"]["id"]) & {i for ids in leaked.values() for i in ids}
    # every training article that is not a leak is trained on: nothing is carved out for dev or test
    assert len(splits["train"]) == summary["dedup"]["articles_kept"] - 5


def test_dev_file_alone_carves_no_test_split(tiny_base, official_files, tmp_path):
    train_csv, dev_csv, *_ = official_files
    splits, _ = load_splits(tiny_config(tiny_base, tmp_path / "m", data=str(train_csv), dev_data=str(dev_csv),
                                        test_size=None))
    assert len(splits["test"]) == 0 and len(splits["dev"]) == official_files[4]
    with pytest.raises(UserError, match="--test-data is the test split"):
        parse_args(["--data", "x", "--test-data", "y", "--split", "source", "--test-sources", "BBC"])


def test_recipe_is_chosen_printed_and_saved(tiny_base, official_files, tmp_path, caplog):
    """Nothing but the data: every unset choice is resolved, logged with an estimate, saved in
    training_config.yaml (so that --config of it reruns the same recipe), and the baseline sits beside."""
    train_csv, dev_csv, test_csv, *_ = official_files
    config = TrainConfig(data=str(train_csv), dev_data=str(dev_csv), test_data=str(test_csv), base=str(tiny_base),
                         output_dir=str(tmp_path / "m"), epochs=2, learning_rate=1e-3)
    with caplog.at_level("INFO", logger="arabic-topics"):
        out = train(config)
    saved = yaml.safe_load((out / "training_config.yaml").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    chosen = metrics["recipe"]["chosen"]
    assert set(chosen) == {"max_length", "class_weights", "freeze_layers"}  # epochs and lr were given
    assert all(saved[name] == value for name, value in chosen.items())
    assert saved["freeze_layers"] == 1 and saved["epochs"] == 2 and saved["learning_rate"] == 1e-3
    assert "recipe chosen from the data" in caplog.text and "estimated time" in caplog.text
    for part in ("dev", "test"):
        assert re.search(rf"{part}: macro-F1 {metrics[part]['macro_f1']:.4f}.* \| TF-IDF baseline", caplog.text)
    assert "TF-IDF" in (out / "README.md").read_text()  # the baseline, or the blend with it
    rerun = parse_args(["--config", str(out / "training_config.yaml")])
    assert all(getattr(rerun, name) == value for name, value in chosen.items())


def test_max_length_follows_the_token_lengths():
    assert length_for(np.array([10] * 95 + [300] * 5), 512) == 64  # short posts: the floor
    assert length_for(np.array([150] * 96 + [600] * 4), 512) == 160  # rounded up to a multiple of 32
    assert length_for(np.array([900] * 100), 512) == 256  # long articles: windows read the rest
    assert length_for(np.array([900] * 100), 128) == 128  # never past the encoder's own limit


def test_jsonl_text_may_hold_unicode_line_separators(tmp_path):
    path = tmp_path / "posts.jsonl"
    rows = [{"text": "سطر أول\u2028سطر ثان", "label": "a"}, {"text": "نص\u0085آخر", "label": "b"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert list(read_corpus(path)["text"]) == [r["text"] for r in rows]


def test_multi_label_articles_with_no_label_stay(tmp_path):
    from training.hygiene import LabelMapping

    path = tmp_path / "facets.jsonl"
    rows = [{"text": f"نص {i}", "label": labels} for i, labels in enumerate([["politics"], [], ["security"], []])]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    mapped = LabelMapping().apply(read_corpus(path))
    assert list(mapped["label"]) == [["politics"], [], ["security"], []]
    dropped = LabelMapping(drop=["security"]).apply(read_corpus(path))
    assert list(dropped["label"]) == [["politics"], [], []]


def test_blend_with_the_tfidf_model_is_saved_and_applied(tiny_base, official_files, tmp_path):
    """--fusion true: the fitted blend is saved with its TF-IDF model, and the loaded classifier's
    probabilities are the blend of the transformer's and the TF-IDF model's, as model/tfidf.py fuse defines."""
    from scipy.special import softmax
    from transformers import AutoModelForSequenceClassification

    from model import TopicClassifier
    from model.tfidf import TfidfBaseline, fuse, texts_with_titles

    train_csv, dev_csv, test_csv, *_ = official_files
    out = train(tiny_config(tiny_base, tmp_path / "m", data=str(train_csv), dev_data=str(dev_csv),
                            test_data=str(test_csv), fusion=True))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["fusion"]["adopted"] and "transformer_alone" in metrics
    settings = json.loads((out / "topic_config.json").read_text())
    assert settings["fusion"]["weight"] < 1 and (out / "tfidf" / "baseline.npz").is_file()
    texts = read_corpus(DATA / "jawhara")["text"][:5]
    blended = TopicClassifier.from_pretrained(out, backend="fp32")
    plain = TopicClassifier(AutoModelForSequenceClassification.from_pretrained(out), blended.tokenizer,
                            dataclasses.replace(blended.settings, fusion={}), backend="fp32")
    tfidf = TfidfBaseline.load(out / "tfidf")
    expected = softmax(fuse(plain.logits(texts), tfidf.decision_function(texts_with_titles(texts)),
                            settings["fusion"], multi_label=False), axis=1)
    assert np.allclose(blended.predict_proba(texts), expected, atol=1e-5)
    assert not np.allclose(plain.predict_proba(texts), expected, atol=1e-3)
    # never blended with --fusion false; a model whose tfidf/ went missing is refused in one line
    alone = train(tiny_config(tiny_base, tmp_path / "n", data=str(train_csv), dev_data=str(dev_csv), fusion=False))
    assert "fusion" not in json.loads((alone / "topic_config.json").read_text())
    shutil.rmtree(out / "tfidf")
    with pytest.raises(UserError, match="tfidf/ is missing"):
        TopicClassifier.from_pretrained(out)


def test_help_names_each_option_once_and_bare_flags_switch_on(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = capsys.readouterr().out
    assert "--dev-data DEV_DATA" in text and "--dev_data" not in text and "(default: None)" not in text
    assert text.count("--text-column") == 2  # once in the usage line, once in the option list
    config = parse_args(["--data", "x", "--class-weights", "--fusion", "false", "--text_column", "body"])
    assert (config.class_weights, config.fusion, config.text_column) == (True, False, "body")
