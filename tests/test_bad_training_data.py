"""Bad training data stops with one clear error naming the file (or is logged and counted where skipping
is the documented behaviour). Corpus-reader errors (format, columns, <TEXT>, UTF-8) are in test_corpus.py."""
import json
import logging

import pytest

from arabic_topics import main
from model import UserError
from training.corpus import CorpusError
from training.data import load_splits
from training.train import train

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
    with pytest.raises(UserError, match=r"at least two labels; every article is labelled \['sport'\] \(from column "
                                        r"'label'; --label-column names another\)"):
        load_splits(tiny_config("unused", tmp_path / "m", data=str(path), id_column="id"))


def _csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


ROWS = "".join(f"مقال رقم {i},{('sport', 'economy')[i % 2]}\n" for i in range(20))


@pytest.mark.parametrize("content, message", [
    ("text,label\nمقال واحد,sport\n",  # 1 article: test would take it
     "too few articles for the splits asked: test takes 1 of the 1 left, so none remains to train on; give more "
     "data or a smaller --test-size"),
    ("text,label\nمقال,sport\nمقال آخر,economy\n",  # 2 articles: test takes 1, dev the other
     "too few articles for the splits asked: dev takes 1 of the 1 left, so none remains to train on; give more "
     "data or a smaller --dev-size"),
    (f"text,label\n{ROWS}\"مقال بلا نهاية,sport\n{ROWS}",  # its quote never closes: the rest is one field
     "bad.csv:22: not CSV (a quote opened in the row starting here is never closed)"),
    (f"body,topic\n{ROWS}",
     "bad.csv: missing column 'text' (--text-column) and missing column 'label' (--label-column); the header has: "
     "body, topic"),
    (f"text,section\n{ROWS}", "bad.csv: missing column 'label' (--label-column); the header has: text, section"),
    ("text,label\n" + "".join(f"مقال رقم {i},sport\n" for i in range(20)),
     "training needs at least two labels; every article is labelled ['sport'] (from column 'label'; "
     "--label-column names another)"),
])
def test_bad_files_get_one_line_and_exit_2(tmp_path, capsys, content, message):
    data, out = _csv(tmp_path / "bad.csv", content), tmp_path / "model"
    code = main(["train", "--data", str(data), "--output-dir", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("arabic-topics:")] == \
        [f"arabic-topics: error: {message.replace('bad.csv', str(data))}"]
    assert not out.exists()


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
