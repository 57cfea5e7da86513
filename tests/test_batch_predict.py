"""Batch prediction over a corpus (`predict --out`, model/batch_predict.py): streamed output equals predict,
shards split a corpus exactly, a killed run finishes on rerun with every id once, bad input is refused in
one line or recorded per article. The tiny trained model, real ANT articles."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from model import TopicClassifier
from model.batch_predict import predict_corpus, read_articles, shard_of
from arabic_topics import main
from training.corpus import read_corpus

from .conftest import DATA, default_sigint


@pytest.fixture(scope="module")
def classifier(trained):
    return TopicClassifier.from_pretrained(trained)


@pytest.fixture(scope="module")
def articles():
    ant = read_corpus(DATA / "ant")
    rows = [{"id": r["id"], "text": r["text"], "title": r["title"]} for r in ant]
    assert len({r["id"] for r in rows}) == len(rows) > 30
    return rows


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def predicted_in_batches(classifier, rows, batch_size, top_k=1):
    """What predict gives for `rows`, batch by batch. The same batches as the streamed run: results are then
    identical to the last digit (other batches pad differently, which may move scores slightly under bf16)."""
    results = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        results += classifier.predict([r["text"] for r in batch], top_k=top_k, titles=[r["title"] for r in batch],
                                      batch_size=batch_size)
    return [{"id": r["id"], **result} for r, result in zip(rows, results)]


def test_streamed_output_equals_predict_and_is_written_batch_by_batch(classifier, articles, tmp_path):
    out = tmp_path / "out.jsonl"
    lines_when_item_10_was_read = []

    def stream():
        for n, article in enumerate(read_articles([str(write_jsonl(tmp_path / "in.jsonl", articles))])):
            if n == 10:
                lines_when_item_10_was_read.append(len(out.read_text().splitlines()))
            yield article

    summary = predict_corpus(classifier, stream(), out, batch_size=4, top_k=2)
    assert lines_when_item_10_was_read == [8]  # two batches of 4 were on disk before the corpus was read
    assert (summary.written, summary.errors, summary.already_done) == (len(articles), 0, 0)
    assert records(out) == predicted_in_batches(classifier, articles, 4, top_k=2)


def test_a_directory_of_text_files_is_read_with_relative_paths_as_ids(classifier, articles, tmp_path):
    corpus = tmp_path / "corpus"
    rows = []
    for n, article in enumerate(articles[:7]):
        path = corpus / f"part{n % 2}" / f"{article['id']}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article["text"], encoding="utf-8")
        rows.append({"id": f"part{n % 2}/{article['id']}.txt", "text": article["text"], "title": None})
    (corpus / "notes.md").write_text("not an article")
    (corpus / "part0" / "latin1.txt").write_bytes("café".encode("latin-1"))
    out = tmp_path / "out.jsonl"
    predict_corpus(classifier, read_articles([str(corpus)]), out, batch_size=1)
    got = records(out)
    assert {"id": "part0/latin1.txt", "error": "not UTF-8 text (invalid byte at offset 3)"} in got
    rows.sort(key=lambda r: r["id"])
    assert [r for r in got if "error" not in r] == predicted_in_batches(classifier, rows, 1)


def test_shards_are_disjoint_and_together_cover_every_id_once(classifier, articles, tmp_path):
    shards = []
    for index in range(3):
        out = tmp_path / f"shard-{index}.jsonl"
        predict_corpus(classifier, [(a["id"], a["text"], a["title"]) for a in articles], out, shard=(index, 3),
                       batch_size=8)
        shards.append(records(out))
        assert shards[-1] and all(shard_of(r["id"], 3) == index for r in shards[-1])
        mine = [a for a in articles if a["id"] in {r["id"] for r in shards[-1]}]
        assert shards[-1] == predicted_in_batches(classifier, mine, 8)
    union = [r["id"] for shard in shards for r in shard]
    assert sorted(union) == sorted(a["id"] for a in articles)  # disjoint (no id twice) and complete


def predict_command(model, corpus, out, batch_size=4):
    return [sys.executable, "-m", "arabic_topics", "predict", "--model", str(model), str(corpus), "--out", str(out),
            "--batch-size", str(batch_size)]


def feed_then_signal(command, fifo, out, lines, wait_for_lines, sig=signal.SIGKILL, timeout=300):
    """Start `command` reading `fifo`, write `lines` into it and keep it open (so the run cannot finish),
    send `sig` once `out` holds `wait_for_lines` lines, return the ended process."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=default_sigint)
    deadline = time.monotonic() + timeout
    while True:  # opening a FIFO for writing fails (ENXIO) until the reader has opened it
        assert process.poll() is None, process.stderr.read()[-2000:]
        assert time.monotonic() < deadline
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            time.sleep(0.05)
    os.set_blocking(fd, True)
    try:
        with open(fd, "wb", closefd=False) as feed:
            feed.write("".join(lines).encode("utf-8"))
            feed.flush()
        while not out.exists() or out.read_text(encoding="utf-8").count("\n") < wait_for_lines:
            assert process.poll() is None, process.stderr.read()[-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(sig)
        process.wait(timeout=timeout)
    finally:
        os.close(fd)
    return process


def test_a_killed_run_is_completed_by_rerunning_the_same_command(trained, classifier, articles, tmp_path):
    # Batches of one: the kill may land anywhere, and each article is still computed exactly as in an
    # uninterrupted run, so the results can be compared to the last digit.
    rows = [{**a, "id": f"{a['id']}#{copy}"} for copy in range(3) for a in articles]
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in rows]
    corpus, out = tmp_path / "corpus.jsonl", tmp_path / "out.jsonl"
    command = predict_command(trained, corpus, out, batch_size=1)
    os.mkfifo(corpus)
    killed = feed_then_signal(command, corpus, out, lines[:60], wait_for_lines=20)
    assert killed.returncode == -signal.SIGKILL
    kept = out.read_text(encoding="utf-8").count("\n")
    assert 20 <= kept <= 60

    corpus.unlink()
    corpus.write_text("".join(lines), encoding="utf-8")  # the same input, now whole: the command is rerun
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"written {len(rows) - kept}, skipped as already done {kept}, errors 0" in done.stdout
    assert records(out) == predicted_in_batches(classifier, rows, 1, top_k=3)  # every id once, in order


def test_ctrl_c_says_what_is_kept_and_how_to_finish(trained, articles, tmp_path):
    corpus, out = tmp_path / "corpus.jsonl", tmp_path / "out.jsonl"
    os.mkfifo(corpus)
    lines = [json.dumps(a, ensure_ascii=False) + "\n" for a in articles[:10]]
    stopped = feed_then_signal(predict_command(trained, corpus, out), corpus, out, lines, 8, signal.SIGINT)
    stderr = stopped.stderr.read()
    assert stopped.returncode == 130 and "Traceback" not in stderr
    assert stderr.splitlines() == [f"arabic-topics: interrupted: the predictions written so far are kept in {out}; "
                                   "run the same command again to finish it"]
    assert out.read_text(encoding="utf-8").count("\n") == 8


def test_a_torn_last_line_is_cut_off_and_its_article_redone(classifier, articles, tmp_path):
    rows = [(a["id"], a["text"], a["title"]) for a in articles]
    expected = predicted_in_batches(classifier, articles, 5)
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in expected]
    out = tmp_path / "out.jsonl"
    out.write_text("".join(lines[:10]) + lines[10][: len(lines[10]) // 2], encoding="utf-8")  # killed mid-write
    summary = predict_corpus(classifier, rows, out, batch_size=5)
    assert (summary.already_done, summary.written) == (10, len(rows) - 10)
    assert records(out) == expected


def run_cli(capsys, *args):
    status = main(["predict", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err.splitlines()


@pytest.mark.parametrize("shard, message", [
    ("3/3", "i must be below n"), ("-1/3", "expected i/n"), ("1", "expected i/n"), ("a/b", "expected i/n"),
    ("0/0", "at least 1"),
])
def test_bad_shard_gets_one_line_and_exit_2(trained, articles, tmp_path, capsys, shard, message):
    corpus, out = write_jsonl(tmp_path / "in.jsonl", articles), tmp_path / "out.jsonl"
    status, _, errors = run_cli(capsys, "--model", trained, corpus, "--out", out, f"--shard={shard}")
    assert status == 2 and len(errors) == 1
    assert errors[0].startswith(f"arabic-topics: error: --shard {shard}") and message in errors[0]
    assert not out.exists()


def test_shard_without_out_is_refused(trained, articles, tmp_path, capsys):
    corpus = write_jsonl(tmp_path / "in.jsonl", articles)
    status, _, errors = run_cli(capsys, "--model", trained, corpus, "--shard", "0/2")
    assert status == 2 and errors == ["arabic-topics: error: --shard needs --out FILE.jsonl (sharded prediction "
                                      "writes to a file)"]


def test_bad_lines_become_error_records_and_the_others_are_classified(trained, articles, tmp_path, capsys):
    good = [json.dumps(a, ensure_ascii=False).encode() for a in articles[:3]]
    corpus = tmp_path / "in.jsonl"
    arabic = "نص".encode()
    corpus.write_bytes(b"\n".join([
        good[0],
        b"{not json",  # line 2
        b'{"id": "x", "text": "\xff\xfe"}',  # line 3
        b'{"text": "' + arabic + b'"}',  # line 4
        b'{"id": "no-text"}',
        b'{"id": 7, "text": "   "}',
        b'{"id": "t", "text": "' + arabic + b'", "title": 3}',
        b"[1, 2]",  # line 8
        b"",  # blank lines are skipped, not articles
        good[1],
        b'{"id": "n", "text": null}',
        good[2]]) + b"\n")
    out = tmp_path / "out.jsonl"
    status, stdout, errors = run_cli(capsys, "--model", trained, corpus, "--out", out)
    assert status == 2 and len(errors) == 1 and "8 articles could not be classified" in errors[0]
    assert stdout.strip().endswith("written 11, skipped as already done 0, errors 8")
    got = {r["id"]: r for r in records(out)}
    assert [i for i in got if "error" not in got[i]] == [a["id"] for a in articles[:3]]
    assert {i: got[i]["error"] for i in got if "error" in got[i]} == {
        f"{corpus}:2": "not JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{corpus}:3": "not UTF-8 (invalid byte at offset 21)",
        f"{corpus}:4": 'no "id" (a string or an integer)',
        "no-text": 'no "text"',
        7: "empty text",
        "t": '"title" is int, not text',
        f"{corpus}:8": "a JSON list, not an object",
        "n": "NoneType, not text",
    }
    status, stdout, errors = run_cli(capsys, "--model", trained, corpus, "--out", out)  # nothing left to do
    assert status == 2 and stdout.strip().endswith("written 0, skipped as already done 11, errors 0")


@pytest.mark.parametrize("name, message", [
    ("missing.jsonl", "missing.jsonl: no such file or directory"),
    ("article.txt", "article.txt:1: not JSON"),
    ("empty-folder", "empty-folder: no .txt files"),
    ("blank.jsonl", "blank.jsonl: no articles"),
])
def test_an_unreadable_input_gets_one_line_and_exit_2(trained, tmp_path, capsys, name, message):
    (tmp_path / "article.txt").write_text(next((DATA / "ant" / "BBC" / "sport").glob("*.txt")).read_text())
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "blank.jsonl").write_text("\n\n")
    out = tmp_path / "out.jsonl"
    status, _, errors = run_cli(capsys, "--model", trained, tmp_path / name, "--out", out)
    assert status == 2 and len(errors) == 1 and errors[0].startswith("arabic-topics: error: ")
    assert message in errors[0]
    assert not out.exists()  # a run that could not start leaves no empty output behind


@pytest.mark.parametrize("content", ["my notes\nkeep them\n", "my notes", '{"id": 1}\nnot ours\n'])
def test_an_output_file_that_is_not_ours_is_left_untouched(trained, articles, tmp_path, capsys, content):
    corpus, out = write_jsonl(tmp_path / "in.jsonl", articles), tmp_path / "notes.txt"
    out.write_text(content)
    status, _, errors = run_cli(capsys, "--model", trained, corpus, "--out", out)
    assert status == 2 and len(errors) == 1 and "is not a prediction record, so the file is left as it is" in errors[0]
    assert out.read_text() == content


def test_the_input_cannot_be_the_output(trained, articles, tmp_path, capsys):
    corpus = write_jsonl(tmp_path / "in.jsonl", articles)
    status, _, errors = run_cli(capsys, "--model", trained, corpus, "--out", corpus)
    assert status == 2 and errors == [f"arabic-topics: error: --out {corpus}: is also an input; name a new file"]


def test_a_table_without_an_id_column_names_each_row_by_its_line(classifier, trained, articles, tmp_path, capsys):
    rows = [{"title": a["title"], "text": " ".join(a["text"].split())} for a in articles[:3]]
    rows[1]["text"] = rows[1]["text"][:80] + "\n" + rows[1]["text"][80:]  # quoted over lines 3 and 4
    table = tmp_path / "no-ids.csv"
    with open(table, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["title", "text"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    ids = [f"{table}:2", f"{table}:3", f"{table}:5"]  # the line each row starts on
    out = tmp_path / "out.jsonl"
    status, stdout, _ = run_cli(capsys, "--model", trained, table, "--out", out)
    assert status == 0 and stdout.strip().endswith("written 3, skipped as already done 0, errors 0")
    assert records(out) == predicted_in_batches(classifier, [{"id": i, **r} for i, r in zip(ids, rows)], 32,
                                                top_k=3)
    status, stdout, _ = run_cli(capsys, "--model", trained, table, "--out", out)  # a rerun finds them done
    assert status == 0 and stdout.strip().endswith("written 0, skipped as already done 3, errors 0")
    status, stdout, _ = run_cli(capsys, "--model", trained, "--json", table)  # without --out: the same names
    assert status == 0 and [json.loads(line)["input"] for line in stdout.splitlines()] == ids
