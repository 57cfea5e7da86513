"""The `arabic-topics` command as a user runs it: real processes, one-line errors, no tracebacks."""
import csv
import json
import shutil
import subprocess
import sys

import pytest

from .conftest import DATA

ARTICLE = next((DATA / "ant" / "BBC" / "sport").glob("*.txt"))


def run(*args, stdin=None):
    return subprocess.run(args, capture_output=True, text=True, input=stdin, timeout=600)


@pytest.fixture(scope="module")
def cli_model(tiny_base, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model"
    done = run("arabic-topics", "train", "--data", str(DATA / "ant"), "--base", str(tiny_base), "--epochs", "1",
               "--max-length", "64", "--dev-size", "0.2", "--test-size", "0.2", "--output-dir", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "model saved to" in done.stderr
    return out


def test_predict_table_and_json(cli_model):
    table = run("arabic-topics", "predict", "--model", str(cli_model), str(ARTICLE))
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split()[:3] == ["input", "label", "score"] and row.startswith(str(ARTICLE))
    lines = run("arabic-topics", "predict", "--model", str(cli_model), "--json", str(ARTICLE), "-",
                stdin="فاز المنتخب في المباراة\n\nارتفعت أسعار النفط\n").stdout.splitlines()
    results = [json.loads(line) for line in lines]
    assert [r["input"] for r in results] == [str(ARTICLE), "stdin:1", "stdin:3"]
    assert all(set(r) == {"input", "label", "score", "labels", "scores", "low_confidence", "warnings"} for r in results)


def test_evaluate_and_baseline_commands(cli_model, tmp_path):
    done = run("arabic-topics", "evaluate", "--model", str(cli_model), "--data", str(DATA / "ant"),
               "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TF-IDF baseline" in done.stdout and (tmp_path / "report" / "errors.csv").is_file()
    done = run("arabic-topics", "baseline", "--data", str(DATA / "ant"), "--out", str(tmp_path / "tfidf"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "tfidf" / "baseline.npz").is_file() and (tmp_path / "tfidf" / "report" / "report.md").is_file()


def test_module_entry_point_trains_like_the_console_script(tiny_base, tmp_path):
    done = run(sys.executable, "-m", "training.train", "--data", str(DATA / "ant"), "--base", str(tiny_base),
               "--epochs", "1", "--max-length", "32", "--dev-size", "0.2", "--test-size", "0.2",
               "--output-dir", str(tmp_path / "m"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "m" / "model.safetensors").is_file()


@pytest.mark.parametrize("args, message", [
    (["predict", "--model", "{model}", "missing.txt"], "missing.txt: no such file"),
    (["predict", "--model", "{tmp}", "{article}"], "is not a topic model directory"),
    (["predict", "--model", "{model}", "{empty}"], "empty file"),
    (["predict", "--model", "{model}", "{tmp}"], "is a directory, not a text file"),
    (["predict", "--model", "{model}", "{latin1}"], "not UTF-8 text (invalid byte at offset 3)"),
    (["train", "--data", "{tmp}/nowhere"], "nowhere: no such file or directory"),
    (["train", "--data", "{ant}", "--output-dir", "{model}"], "already holds a trained model"),
    (["train", "--data", "{ant}", "--split", "source", "--test-sources", "Reuters", "--output-dir", "{tmp}/x"],
     "test sources not in the corpus: reuters"),
    (["train", "--data", "{ant}", "--base", "{tmp}/no-such-base", "--output-dir", "{tmp}/y"],
     "cannot load base encoder"),
    (["evaluate", "--loso", "--model", "{model}", "--data", "{ant}", "--out", "{tmp}/r"], "--split source"),
    (["evaluate", "--model", "{model}", "--data", "{tmp}/none", "--out", "{tmp}/r"], "no such file or directory"),
    (["evaluate", "--model", "{model}", "--data", "{ant}", "--out", "{tmp}/r", "--leave-out", "{tmp}/ids.txt"],
     "give --as-topics LABEL_MAP too"),
])
def test_bad_input_gets_one_line_and_exit_2(cli_model, tmp_path, args, message):
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "latin1.txt").write_bytes("café au lait".encode("latin-1"))
    values = {"model": cli_model, "tmp": tmp_path, "article": ARTICLE, "empty": tmp_path / "empty.txt",
              "ant": DATA / "ant", "latin1": tmp_path / "latin1.txt"}
    done = run("arabic-topics", *[a.format(**values) for a in args])
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("arabic-topics: error:")]
    assert len(errors) == 1 and message in errors[0], done.stderr[-1500:]
    assert "Traceback" not in done.stderr


def test_one_bad_file_does_not_cost_the_others_their_results(cli_model, tmp_path):
    english = tmp_path / "english.txt"
    english.write_text("The central bank raised interest rates on Thursday.")
    done = run("arabic-topics", "predict", "--model", str(cli_model), "--json", str(ARTICLE), "missing.txt",
               str(english))
    assert done.returncode == 2
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["input"] for r in results] == [str(ARTICLE), str(english)]
    assert results[1]["warnings"] == ["no Arabic letters: the model was trained on Arabic news"]
    assert done.stderr.splitlines().count("arabic-topics: error: missing.txt: no such file") == 1
    assert "Traceback" not in done.stderr


def test_empty_stdin_is_an_error():
    done = run("arabic-topics", "predict", "-", stdin="\n  \n")
    assert done.returncode == 2 and done.stderr.strip() == "arabic-topics: error: stdin: no text on stdin"


def test_a_table_file_is_read_by_rows_with_or_without_out(cli_model, tmp_path):
    rows = [{"id": "a1", "text": ARTICLE.read_text(encoding="utf-8"), "title": "مباراة"},
            {"id": "a2", "text": "ارتفعت أسعار النفط في الأسواق العالمية"},
            {"id": "a3", "title": "بلا نص"}]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    table = tmp_path / "corpus.tsv"
    with open(table, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["id", "title", "text"], delimiter="\t")  # quotes the article's newlines
        writer.writeheader()
        writer.writerows(rows[:2])
    shown = run("arabic-topics", "predict", "--model", str(cli_model), "--json", str(corpus), str(table))
    assert shown.returncode == 2 and "arabic-topics: error: a3: no \"text\"" in shown.stderr.splitlines()
    printed = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [r["input"] for r in printed] == ["a1", "a2", "a1", "a2"] and len(printed[0]["labels"]) == 3
    assert printed[:2] == printed[2:]  # the TSV's rows read as the JSONL's (an empty title is no title)
    written = run("arabic-topics", "predict", "--model", str(cli_model), str(corpus), "--out", str(tmp_path / "o.jsonl"))
    assert written.returncode == 2, written.stderr
    records = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [{k: v for k, v in r.items() if k != "id"} for r in records[:2]] == [
        {k: v for k, v in r.items() if k != "input"} for r in printed[:2]]
    unreadable = tmp_path / "bad.csv"
    unreadable.write_text("title,body\nx,y\n")
    refused = run("arabic-topics", "predict", "--model", str(cli_model), str(unreadable))
    assert refused.returncode == 2 and refused.stderr.startswith(
        f"arabic-topics: error: {unreadable}: no text column in its header (columns found: title, body)")
    assert "Traceback" not in refused.stderr


@pytest.fixture
def strict_model(partial_model, tmp_path):
    """The tiny multi-label model saved with thresholds no label passes."""
    copy = tmp_path / "strict"
    shutil.copytree(partial_model, copy)
    config = json.loads((copy / "topic_config.json").read_text())
    config["thresholds"] = {label: 1.01 for label in config["thresholds"]}
    (copy / "topic_config.json").write_text(json.dumps(config))
    return copy


def test_a_multi_label_model_shows_its_best_label_when_none_passes(strict_model):
    table = run("arabic-topics", "predict", "--model", str(strict_model), str(ARTICLE))
    assert table.returncode == 0, table.stderr
    shown = json.loads(run("arabic-topics", "predict", "--model", str(strict_model), "--json", str(ARTICLE)).stdout)
    assert shown["label"] == max(shown["scores"], key=shown["scores"].get) and shown["labels"] == []
    assert shown["low_confidence"] and shown["score"] == max(shown["scores"].values())
    assert table.stdout.splitlines()[1].split()[1:4] == [shown["label"], "(low", "confidence)"]
    refused = run("arabic-topics", "predict", "--model", str(strict_model), "--top-k", "2", str(ARTICLE))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == ["arabic-topics: error: --top-k applies to single-label models; "
                                                   "this multi-label model shows every label that passes its threshold"]
