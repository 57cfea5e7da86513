"""`arabic-topics benchmark` on the tiny real model: any corpus, a plain text file, the teacher as reference;
and the predict path that it measures: a fresh `arabic-topics predict` imports no training or evaluation code,
and with an ONNX backend neither torch nor transformers."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from training.corpus import read_corpus

from .conftest import DATA


def cli(*args, env=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "arabic_topics", *map(str, args)], capture_output=True,
                          text=True, env=env, input=stdin)


@pytest.fixture()
def cache_env(tmp_path):
    return {**os.environ, "ARABIC_TOPICS_CACHE": str(tmp_path / "cache")}


def test_benchmark_on_a_labelled_corpus(trained, tmp_path, cache_env):
    out = tmp_path / "bench.json"
    done = cli("benchmark", "--model", trained, "--data", DATA / "ant", "--n", "20", "--latency-n", "3",
               "--backends", "fp32", "onnx-int8", "--out", out, env=cache_env)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    names = [r["name"] for r in result["rows"]]
    default = result["rows"][2]["backend"]
    assert names[:3] == ["reference pipeline (fp32, batch 32)", "reference, full reading (fp32)",
                         f"ours, default ({default})"]
    assert {f"ours, {b}" for b in ("fp32", "onnx-int8")} - {f"ours, {default}"} <= set(names)
    assert result["reference"] == str(trained) and result["documents"] == 20
    assert result["labels"] == "the model's own labels"
    for row in result["rows"]:
        assert row["docs_per_s"] > 0 and 0 <= row["macro_f1"] <= 1 and row["peak_rss_mb"] > 0
        assert row["latency_p95_ms"] >= row["latency_p50_ms"] > 0
    assert result["rows"][1]["agreement_with_reference"] == 1.0
    # the tiny model reads one window, as the pipeline does: the same head, the same decisions
    assert result["rows"][0]["agreement_with_reference"] >= 0.95
    for key in ("startup", "startup_headline"):
        startup = result[key]
        assert startup["predict_s"] > 0 and startup["import_torch_transformers_s"] > 0 and startup["repeats"] == 3
    # the headline: the corpus's first title, or else its article's first words
    corpus = read_corpus(DATA / "ant")
    heads = {" ".join(text.split()[:10]) for text in corpus["text"]}
    heads |= set(corpus["title"]) if "title" in corpus.column_names else set()
    assert result["startup_headline"]["text"] in heads
    assert "start-up, one headline: predict" in done.stdout
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(f"ours ({default}) / reference pipeline: ") and "x docs/s, macro-F1 " in last
    assert f"{result['ratio']:.2f}x" in last


def test_benchmark_on_a_text_file_with_the_teacher_as_reference(trained, tmp_path, cache_env):
    student = tmp_path / "student"
    shutil.copytree(trained, student)
    shutil.copytree(trained, student / "teacher")
    lines = tmp_path / "articles.txt"
    texts = [" ".join(t.split()) for t in read_corpus(DATA / "ant")["text"][:12]]
    lines.write_text("\n".join(texts) + "\n\n", encoding="utf-8")
    out = tmp_path / "bench.json"
    done = cli("benchmark", "--model", student, "--data", lines, "--n", "10", "--latency-n", "2",
               "--backends", "fp32", "--no-startup", "--out", out, env=cache_env)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["reference"] == str(student / "teacher") and result["documents"] == 10
    assert result["documents_in_data"] == 12 and "startup" not in result
    assert all(row["macro_f1"] is None for row in result["rows"])
    assert all(0 <= row["agreement_with_reference"] <= 1 for row in result["rows"])
    assert "agreement with the reference's full reading" in done.stdout.strip().splitlines()[-1]


def test_benchmark_bad_input_is_one_line(trained, tmp_path, cache_env):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    for args in (["--data", empty], ["--data", tmp_path / "missing.txt"], ["--data", DATA / "ant", "--n", "0"]):
        done = cli("benchmark", "--model", trained, *args, "--no-startup", env=cache_env)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and "error:" in done.stderr, done.stderr


PREDICT_AND_LIST_MODULES = """
import json, sys
from arabic_topics import main
status = main(["predict", "--model", sys.argv[1], "-"])
roots = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"status": status, "roots": roots}), file=sys.stderr)
"""


def _predict_modules(model, env) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PREDICT_AND_LIST_MODULES, str(model)], capture_output=True,
                          text=True, env=env, input="مقال عن مباراة كرة القدم في الدوري\n")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["status"] == 0
    return set(report["roots"])


def test_predict_imports_no_training_or_evaluation_code(trained, cache_env):
    roots = _predict_modules(trained, cache_env)
    assert "model" in roots and "torch" in roots  # a PyTorch model: torch runs it
    assert not roots & {"training", "eval", "datasets", "sklearn", "matplotlib", "onnx", "pandas"}


def test_onnx_default_predicts_without_torch_or_transformers(trained, tmp_path, cache_env):
    fast = tmp_path / "fast"
    shutil.copytree(trained, fast)
    settings = json.loads((fast / "topic_config.json").read_text())
    (fast / "topic_config.json").write_text(json.dumps({**settings, "backend": "onnx-int8"}))
    first = cli("predict", "--model", fast, "-", env=cache_env, stdin="مقال عن الاقتصاد\n")  # builds the export
    assert first.returncode == 0, first.stderr
    exports = list((tmp_path / "cache" / "onnx").glob("*-onnx-int8-v*"))
    assert len(exports) == 1 and (exports[0] / "export.json").is_file()
    roots = _predict_modules(fast, cache_env)
    assert not roots & {"torch", "transformers", "training", "eval", "datasets", "sklearn", "onnx"}
    # a damaged export is rebuilt, not run
    (exports[0] / "model.onnx").write_bytes(b"damaged")
    again = cli("predict", "--model", fast, "--json", "-", env=cache_env, stdin="مقال عن الاقتصاد\n")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["label"] == json.loads(
        cli("predict", "--model", fast, "--json", "-", env=cache_env, stdin="مقال عن الاقتصاد\n").stdout)["label"]
