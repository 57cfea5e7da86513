import json
import shutil

import pytest

from training.corpus import CorpusError, TableColumns, detect_format, read_corpus, read_table

from .conftest import DATA


def test_ant_multisource_sample():
    data = read_corpus(DATA / "ant")
    assert data.column_names == ["id", "text", "title", "label", "source"]
    assert len(data) == 38
    assert set(data["label"]) == {"culture", "economy", "internationalNews", "middleEast", "sport", "technology"}
    assert {s.lower() for s in data["source"]} <= {"bbc", "cnn", "alarabia", "france24", "skynews"}
    first = data[0]
    assert first["id"].split("-")[1] == first["label"] and first["text"] and first["title"]


def test_ant_jawhara_file_without_cat_takes_its_folder_label():
    data = read_corpus(DATA / "jawhara", "ant")
    row = data[data["id"].index("92")]
    assert row["label"] == "politic"
    assert len(set(data["label"])) == 9


def test_folder_of_category_folders(tmp_path):
    ant = read_corpus(DATA / "ant")
    for row in ant.select(range(12)):
        (tmp_path / row["label"]).mkdir(exist_ok=True)
        (tmp_path / row["label"] / f"{row['id']}.txt").write_text(row["text"], encoding="utf-8")
    (tmp_path / "README.txt").write_text("not an article")
    assert detect_format(tmp_path) == "folders"
    data = read_corpus(tmp_path)
    assert len(data) == 12
    assert sorted(data["label"]) == sorted(ant.select(range(12))["label"])


@pytest.mark.parametrize("suffix, delimiter", [(".csv", ","), (".tsv", "\t")])
def test_csv_and_tsv_with_configured_columns(tmp_path, suffix, delimiter):
    import csv

    ant = read_corpus(DATA / "ant").select(range(6))
    path = tmp_path / f"news{suffix}"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(["doc", "headline", "body", "topic"])
        for row in ant:
            writer.writerow([row["id"], row["title"], row["text"], row["label"]])
    data = read_corpus(path, columns=TableColumns(text="body", title="headline", label="topic", id="doc"))
    assert data["id"] == ant["id"] and data["text"] == ant["text"] and data["label"] == ant["label"]
    assert data["title"] == ant["title"]


def test_jsonl_pipe_labels_are_multi_label():
    data = read_table(DATA / "psd.jsonl", TableColumns(text="text", title="title", label="labels", id="id"))
    assert len(data) == 40
    assert all(isinstance(lab, list) for lab in data["label"])
    assert any(len(lab) > 1 for lab in data["label"])
    assert set(x for lab in data["label"] for x in lab) <= {"politics", "security", "diplomacy", "none"}


def test_jsonl_list_labels(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"text": "نص", "label": ["politics", "security"]}, ensure_ascii=False) + "\n"
                    + json.dumps({"text": "نص آخر", "label": "sport"}, ensure_ascii=False) + "\n")
    assert read_corpus(path)["label"] == [["politics", "security"], ["sport"]]


def test_malformed_ant_file_is_reported_with_its_path(tmp_path):
    shutil.copytree(DATA / "ant", tmp_path / "ant")
    bad = next((tmp_path / "ant").rglob("*.txt"))
    bad.write_text(bad.read_text(encoding="utf-8").replace("<TEXT>", "<TXT>"), encoding="utf-8")
    with pytest.raises(CorpusError, match=str(bad)):
        read_corpus(tmp_path / "ant")


def test_non_utf8_file_is_reported(tmp_path):
    shutil.copytree(DATA / "ant", tmp_path / "ant")
    bad = next((tmp_path / "ant").rglob("*.txt"))
    bad.write_bytes(bad.read_text(encoding="utf-8").encode("cp1256"))
    with pytest.raises(CorpusError, match=f"{bad}: not UTF-8"):
        read_corpus(tmp_path / "ant")


@pytest.mark.parametrize("content, message", [
    ('{"text": "نص", "label": "a"}\n{"text": "نص", "label": \n', r"x.jsonl:2: not JSON"),
    ('{"text": "نص"}\n', r"x.jsonl:1: missing column 'label'"),
])
def test_malformed_jsonl(tmp_path, content, message):
    path = tmp_path / "x.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=message):
        read_corpus(path)


def test_csv_row_with_extra_fields(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("text,label\nنص,sport\nنص,sport,extra\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"x.csv:3: more fields"):
        read_corpus(path)


def test_format_detection_and_override(tmp_path):
    assert detect_format(DATA / "ant") == "ant"
    assert detect_format(DATA / "psd.jsonl") == "table"
    with pytest.raises(CorpusError, match="no such file"):
        read_corpus(tmp_path / "missing")
    (tmp_path / "a.xml").write_text("<x/>")
    with pytest.raises(CorpusError, match="unknown corpus file type"):
        read_corpus(tmp_path / "a.xml")
    with pytest.raises(CorpusError, match="unknown corpus format"):
        read_corpus(DATA / "ant", "parquet")
