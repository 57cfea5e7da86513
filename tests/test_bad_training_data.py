"""Bad training data stops with one clear error naming the file (or is logged and counted where skipping
is the documented behaviour). Corpus-reader errors (format, columns, <TEXT>, UTF-8) are in test_corpus.py."""
import json
import logging

import pytest

from model import UserError
from training.corpus import CorpusError
from training.train import load_splits, train

from .conftest import tiny_config


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _rows(n, labels=("sport", "economy")):
    return [{"id": f"a{i}", "text": f"مقال رقم {i} عن موضوع {labels[i % len(labels)]} " * 3,
             "label": labels[i % len(labels)]} for i in range(n)]


def test_empty_corpus(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    with pytest.raises(CorpusError, match="empty.jsonl: no articles found"):
        load_splits(tiny_config("unused", tmp_path / "m", data=str(path)))


def test_a_single_class_cannot_be_trained(tmp_path):
    path = _jsonl(tmp_path / "one.jsonl", _rows(20, labels=("sport",)))
    with pytest.raises(UserError, match=r"at least two labels; the training split has only \['sport'\]"):
        load_splits(tiny_config("unused", tmp_path / "m", data=str(path), id_column="id"))


def test_duplicate_ids_are_refused(tmp_path):
    rows = _rows(20)
    rows[5]["id"] = rows[4]["id"]
    path = _jsonl(tmp_path / "dup.jsonl", rows)
    with pytest.raises(UserError, match=r"dup.jsonl: 1 article id\(s\) used by more than one different article "
                                        r"\(e.g. 'a4', 2 times\)"):
        load_splits(tiny_config("unused", tmp_path / "m", data=str(path), id_column="id"))


def test_dev_test_labels_absent_from_training_are_logged_and_counted(tmp_path, caplog):
    rows = _rows(40)
    rows.append({"id": "rare", "text": "مقال وحيد عن الثقافة والفنون", "label": "culture"})
    path = _jsonl(tmp_path / "rare.jsonl", rows)
    (tmp_path / "ids.txt").write_text("rare\n")
    config = tiny_config("unused", tmp_path / "m", data=str(path), id_column="id", split="ids",
                         test_ids=str(tmp_path / "ids.txt"))
    with caplog.at_level(logging.WARNING, logger="arabic-topics"):
        load_splits(config)
    assert "test: 1 article(s) carry label(s) absent from training: culture" in caplog.text


def test_a_mapping_naming_labels_the_corpus_lacks_is_logged(tmp_path, caplog):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("labels:\n  sport: sports\n  economy: economy\n  sprot: sports\n")
    path = _jsonl(tmp_path / "c.jsonl", _rows(20))
    with caplog.at_level(logging.WARNING, logger="arabic-topics"):
        splits, _ = load_splits(tiny_config("unused", tmp_path / "m", data=str(path), label_map=str(mapping)))
    assert "label mapping names 1 label(s) the corpus does not have: sprot" in caplog.text
    assert set(splits["train"]["label"]) == {"sports", "economy"}


def test_training_on_bad_data_leaves_no_model(tiny_base, tmp_path):
    path = _jsonl(tmp_path / "one.jsonl", _rows(20, labels=("sport",)))
    out = tmp_path / "model"
    with pytest.raises(UserError):
        train(tiny_config(tiny_base, out, data=str(path)))
    assert not (out / "config.json").exists()
