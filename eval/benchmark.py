"""`arabic-topics benchmark`: inference speed and accuracy of a model as `predict` runs it, against the plain
transformers pipeline a user would write first, on any corpus.

    arabic-topics benchmark --data articles/ --n 300          # the shipped model
    arabic-topics benchmark --model runs/mine --data lines.txt

Arms, each in a fresh process (so that its peak RSS is its own), on the same documents:
- reference pipeline: `transformers.pipeline("text-classification")` on the reference model R as a full fp32
  checkpoint, batch 32, each article truncated at R's max length (its head only), as a user of
  run_classification + pipeline would run it. R is --reference; by default the model's `teacher/` when it
  ships one (the full-size model it is measured against, which a user would otherwise fine-tune), else the
  model itself.
- reference, full reading: R through TopicClassifier in fp32, reading its windows as predict does.
- ours: the model exactly as `predict` runs it by default (backend, windows, settings), then on every other
  backend.
docs/s comes from one batched run over all documents after a warm-up; latency p50/p95 from one-document calls
on the first --latency-n; macro-F1 when the data has labels (the model's own, or mapped by --label-map or the
label map the model carries), and for every arm the agreement of its label sets with the reference's full
reading. Loading and ONNX exports are not timed. Start-up: the wall time of a fresh
`arabic-topics predict` on one article against `python -c "import torch, transformers"`, best of 3 each.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from model import TopicClassifier, UserError, default_model_dir, prepare_text
from model.atomic import atomic_write_text
from model.backends import BACKENDS
from model.classifier import TEACHER_DIR, TOPIC_CONFIG, read_labels
from model.hardware import describe_machine

from training.config import CORPUS_OPTIONS

from .cli import add_corpus_arguments
from .evaluate import shown_path
from training.metrics import masked_multi_label_scores, single_label_scores


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    parser.add_argument("--reference", help="the full-size model of the pipeline arm (default: the model's "
                        f"{TEACHER_DIR}/ when it has one, else the model itself)")
    parser.add_argument("--data", required=True, help="corpus folder or CSV/TSV/JSONL file (labels optional), or "
                        "a .txt file with one article per line")
    parser.add_argument("--n", type=int, default=1000, help="documents to time: a seeded sample when the data "
                        "has more (default 1000)")
    parser.add_argument("--latency-n", type=int, default=50, help="documents for one-document latency (default 50)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS),
                        help="our backends to run besides the default one (default: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-startup", dest="startup", action="store_false",
                        help="skip the start-up measurement of a fresh predict process")
    parser.add_argument("--out", default="benchmark.json", help="JSON results (default benchmark.json)")
    add_corpus_arguments(parser)


# ------------------------------------------------------------------------------------------ documents
@dataclass
class Documents:
    texts: list[str]
    titles: list[str | None]
    read: int  # articles in the data before sampling
    gold: list | None = None  # one label (str) or list of labels per document; None: unlabelled
    known: list | None = None  # partial labels: the labels each document decides
    labels_note: str = "none (agreement with the reference only)"


def read_documents(data: str, n: int, labels: list[str], model_dir: Path, label_map: str | None = None,
                   corpus_options: dict | None = None) -> Documents:
    """A seeded sample of n articles of `data` (all of them when it has n or fewer), with their gold labels as
    the model's `labels` when the data has labels. A .txt file is one article per non-empty line, unlabelled;
    anything else is read as `arabic-topics train` reads a corpus."""
    path = Path(data)
    if path.suffix.lower() == ".txt":
        if not path.is_file():
            raise UserError(f"{data}: no such file")
        try:
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except UnicodeDecodeError:
            raise UserError(f"{data}: not UTF-8 text") from None
        if not lines:
            raise UserError(f"{data}: no text (one article per line)")
        keep = _sample(len(lines), n)
        return Documents([lines[i] for i in keep], [None] * len(keep), len(lines))
    from training.corpus import read_corpus

    from .protocols import corpus_reading

    fmt, columns = corpus_reading(**(corpus_options or {}))
    corpus = read_corpus(path, fmt, columns)
    read = len(corpus)
    corpus = corpus.select(_sample(read, n))
    if not all(lab not in (None, "", []) for lab in corpus["label"]):
        return Documents(list(corpus["text"]), list(corpus["title"]), read)
    corpus, note = _models_labels(corpus, labels, model_dir, label_map)
    known = list(corpus["known"]) if "known" in corpus.column_names else None
    return Documents(list(corpus["text"]), list(corpus["title"]), read, list(corpus["label"]), known, note)


def _models_labels(corpus, labels: list[str], model_dir: Path, label_map: str | None):
    """The gold labels as the model's: as they are when the model has them all, else through --label-map or the
    label map the model carries (partial labels where the map leaves some undecided: masked macro-F1)."""
    from training.hygiene import LabelMapping
    from training.partial_labels import attach

    present = {x for lab in corpus["label"] for x in (lab if isinstance(lab, list) else [lab])}
    own = model_dir / "label_map.yaml"
    path = label_map or (str(own) if not present <= set(labels) and own.is_file() else None)
    if path is None:
        unknown = present - set(labels)
        if unknown:
            raise UserError(f"label(s) {', '.join(sorted(unknown))} of --data are not the model's ({', '.join(labels)})"
                            "; map them with --label-map MAP.yaml")
        return corpus, "the model's own labels"
    mapping = LabelMapping.from_yaml(path)
    mapped = mapping.apply(corpus)
    if len(mapped) == 0:
        raise UserError(f"{path}: the label mapping dropped every sampled article")
    if mapping.none:
        mapped = attach(mapped, mapping.targets)
    return mapped, f"mapped by {shown_path(path)}" + (" (partial labels: macro-F1 over the labels each article decides)"
                                           if mapping.none else "")


def _sample(total: int, n: int) -> list[int]:
    """n of `total` indices, seeded and in corpus order (all of them when there are no more than n)."""
    if n >= total:
        return list(range(total))
    return sorted(np.random.default_rng(0).choice(total, n, replace=False).tolist())


def macro_f1(docs: Documents, labels: list[str], multi_label: bool, decided: list[list[str]]) -> float | None:
    """Macro-F1 of label sets against the gold labels (sklearn.metrics, training/metrics.py): masked to the labels
    each document decides for partial labels; one gold label per document on a multi-label model is scored
    against its most probable label (decided[i][0] must then be it)."""
    if docs.gold is None:
        return None
    if not multi_label or not isinstance(docs.gold[0], list):
        return single_label_scores(docs.gold, [d[0] for d in decided])["macro_f1"]
    index = {lab: j for j, lab in enumerate(labels)}

    def matrix(rows):
        out = np.zeros((len(rows), len(labels)), dtype=int)
        for i, row in enumerate(rows):
            out[i, [index[x] for x in row if x in index]] = 1
        return out

    mask = matrix(docs.known) if docs.known is not None else np.ones((len(decided), len(labels)), dtype=int)
    return masked_multi_label_scores(matrix(docs.gold), matrix(decided), mask, labels)["macro_f1"]


# ---------------------------------------------------------------------------------------------- arms
# Each arm runs in a process of its own (spawned: nothing inherited), so that its peak RSS is its own.
def _arm(kind: str, model_dir: str, backend: str | None, docs: Documents, batch_size: int, latency_n: int,
         top_label: bool) -> dict:
    """Probabilities, timings and peak RSS of one arm; kind: pipeline or ours."""
    classifier = TopicClassifier.from_pretrained(model_dir, backend="fp32" if kind == "pipeline" else backend)
    if kind == "pipeline":
        run_batch, run_one = _pipeline(classifier, docs, batch_size)
    else:
        def run_batch(texts, titles):
            return classifier.predict_proba(texts, titles, batch_size)

        def run_one(text, title):
            return classifier.predict_proba([text], [title])
    run_batch(docs.texts[:8], docs.titles[:8])  # warm-up: first-call kernel selection is not speed
    if kind == "ours":  # nor loading the models it hands texts to on first use
        for companion in classifier.companions():
            companion.predict_proba(docs.texts[:8], docs.titles[:8])
    started = time.perf_counter()
    probabilities = run_batch(docs.texts, docs.titles)
    seconds = time.perf_counter() - started
    latencies = []
    for text, title in list(zip(docs.texts, docs.titles))[:latency_n]:
        began = time.perf_counter()
        run_one(text, title)
        latencies.append(time.perf_counter() - began)
    return {"backend": classifier.backend, "seconds": seconds, "latencies": latencies,
            "decisions": classifier.decide(probabilities, top_label=top_label),
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM). getrusage's ru_maxrss is not: on Linux a process
    started by another starts from its parent's peak, so every arm would report the benchmark's own."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pipeline(classifier: TopicClassifier, docs: Documents, batch_size: int):
    """A plain text-classification pipeline on the classifier's PyTorch model, reading the same strings as
    our model (prefix, normalisation, title) truncated at its max length: the head of each article."""
    import transformers

    from model.quiet import quiet

    with quiet():
        pipe = transformers.pipeline("text-classification", model=classifier.model, tokenizer=classifier.tokenizer,
                                     device=classifier.device)
    options = dict(truncation=True, max_length=classifier.settings.max_length, top_k=None)
    column = {label: j for j, label in enumerate(classifier.labels)}

    def rows(outputs):
        probs = np.zeros((len(outputs), len(column)), dtype=np.float32)
        for i, scores in enumerate(outputs):
            for item in scores:
                probs[i, column[item["label"]]] = item["score"]
        return probs

    def prepared(texts, titles):
        return [prepare_text(t, ti, classifier.settings) for t, ti in zip(texts, titles)]

    return (lambda texts, titles: rows(pipe(prepared(texts, titles), batch_size=batch_size, **options)),
            lambda text, title: pipe(prepared([text], [title])[0], **options))


def _in_fresh_process(function, *args):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def _prepare(model_dir: str, backend: str | None) -> str:
    """Load once (building an ONNX export into the cache if needed), so that the timed arm only loads it."""
    return TopicClassifier.from_pretrained(model_dir, backend=backend).backend


# ------------------------------------------------------------------------------------------ start-up
# Put before each timed command: its peak resident memory, written last on stderr as it exits.
PEAK_AT_EXIT = ("import atexit, sys\natexit.register(lambda: sys.stderr.write('peak_rss_mb %.1f\\n' % "
                "(int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024)))\n")

HEADLINE_WORDS = 10  # a headline where the data has no titles: the article's first words


def startup(model_dir: str, text: str, repeats: int = 3) -> dict:
    """Best-of-`repeats` wall seconds of a fresh `arabic-topics predict` on one text, an article or a headline
    (with its peak RSS), against a bare `python -c "import torch, transformers"`, alternated so that both see
    the same machine."""
    def timed(code, stdin=""):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", PEAK_AT_EXIT + code], input=stdin, capture_output=True,
                              text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"start-up run failed (exit {done.returncode}): {last}")
        return seconds, float(done.stderr.strip().splitlines()[-1].split()[-1])

    predict = f"import sys; from arabic_topics import main; sys.exit(main(['predict', '--model', {model_dir!r}, '-']))"
    imports, predicts = [], []
    for _ in range(repeats):
        imports.append(timed("import torch, transformers")[0])
        predicts.append(timed(predict, " ".join(text.split())))
    best = min(predicts)
    return {"predict_s": best[0], "predict_peak_rss_mb": best[1], "import_torch_transformers_s": min(imports),
            "ratio": best[0] / min(imports), "repeats": repeats}


# ------------------------------------------------------------------------------------------ benchmark
def benchmark(data: str, model: str | Path | None = None, reference: str | Path | None = None, n: int = 1000,
              latency_n: int = 50, backends: list[str] = BACKENDS, batch_size: int = 32,
              label_map: str | None = None, corpus_options: dict | None = None, with_startup: bool = True) -> dict:
    if n < 1 or latency_n < 0 or batch_size < 1:
        raise UserError("--n and --batch-size must be at least 1, --latency-n at least 0")
    model_dir = Path(model) if model else default_model_dir()
    reference_dir = Path(reference) if reference else (model_dir / TEACHER_DIR if (model_dir / TEACHER_DIR).is_dir()
                                                      else model_dir)
    ours = TopicClassifier.from_pretrained(model_dir)  # checks the directory, and learns its default backend
    labels, multi_label, default = ours.labels, ours.settings.multi_label, ours.backend
    reading = {"model": _reading(model_dir), "reference": _reading(reference_dir)}
    del ours
    reference_labels = read_labels(reference_dir)
    if reference_labels != labels:
        raise UserError(f"{reference_dir} has labels {reference_labels}, {model_dir} has {labels}: the reference "
                        "must have the same labels")
    docs = read_documents(data, n, labels, model_dir, label_map, corpus_options)
    top_label = multi_label and docs.gold is not None and not isinstance(docs.gold[0], list)
    arms = [("reference pipeline (fp32, batch 32)", "pipeline", reference_dir, "fp32"),
            ("reference, full reading (fp32)", "ours", reference_dir, "fp32"),
            (f"ours, default ({default})", "ours", model_dir, None)]
    arms += [(f"ours, {b}", "ours", model_dir, b) for b in backends if b != default]
    rows, decisions = [], {}
    for name, kind, path, backend in arms:
        if kind == "ours":
            _in_fresh_process(_prepare, str(path), backend)
        result = _in_fresh_process(_arm, kind, str(path), backend, docs, batch_size,
                                   min(latency_n, len(docs.texts)), top_label)
        decisions[name] = result["decisions"]
        ms = np.asarray(result["latencies"]) * 1000
        rows.append({"name": name, "model": shown_path(path), "backend": result["backend"],
                     "docs_per_s": len(docs.texts) / result["seconds"], "seconds": result["seconds"],
                     "latency_p50_ms": float(np.percentile(ms, 50)) if len(ms) else None,
                     "latency_p95_ms": float(np.percentile(ms, 95)) if len(ms) else None,
                     "peak_rss_mb": result["peak_rss_mb"],
                     "macro_f1": macro_f1(docs, labels, multi_label, result["decisions"])})
    full = decisions[arms[1][0]]
    for row in rows:
        row["agreement_with_reference"] = float(np.mean([set(a) == set(b)
                                                         for a, b in zip(decisions[row["name"]], full)]))
    pipeline_row, full_row, ours_row = rows[0], rows[1], rows[2]
    result = {
        "date": date.today().isoformat(), "command": shlex.join(["arabic-topics", *sys.argv[1:]]),
        "machine": describe_machine(), "data": shown_path(data), "documents": len(docs.texts),
        "documents_in_data": docs.read, "labels": docs.labels_note, "model": shown_path(model_dir),
        "reference": shown_path(reference_dir), "reading": reading, "rows": rows,
        "ratio": ours_row["docs_per_s"] / pipeline_row["docs_per_s"],
        "macro_f1_vs_pipeline": _difference(ours_row, pipeline_row),
        "macro_f1_vs_full_reading": _difference(ours_row, full_row),
    }
    if with_startup:
        # an article and a headline: the default hands texts of up to 64 tokens to two further models, which a
        # headline's predict loads and an article's does not
        result["startup"] = startup(str(model_dir), docs.texts[0])
        headline = docs.titles[0] or " ".join(docs.texts[0].split()[:HEADLINE_WORDS])
        result["startup_headline"] = {**startup(str(model_dir), headline), "text": headline}
    return result


def _reading(model_dir: Path) -> dict:
    """How a model directory reads an article: its depth and windows."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    settings = json.loads((model_dir / TOPIC_CONFIG).read_text(encoding="utf-8"))
    return {"layers": config.get("num_hidden_layers"), "max_length": settings.get("max_length"),
            "max_windows": settings.get("max_windows", 1)}


def _difference(row: dict, other: dict) -> float | None:
    if row["macro_f1"] is None or other["macro_f1"] is None:
        return None
    return row["macro_f1"] - other["macro_f1"]


def _cell(value, spec: str) -> str:
    width = spec.split(".")[0]
    return format(value, spec) if value is not None else format("-", ">" + width)


def print_table(result: dict) -> None:
    model, ref = result["reading"]["model"], result["reading"]["reference"]
    print(f"{result['documents']} documents of {result['documents_in_data']} in {result['data']}; gold labels: "
          f"{result['labels']}; {result['machine']['threads']} threads")
    print(f"model {result['model']}: {model['layers']} layers, {model['max_length']} tokens x {model['max_windows']} "
          f"window(s); reference {result['reference']}: {ref['layers']} layers, {ref['max_length']} tokens x "
          f"{ref['max_windows']} window(s)")
    print(f"{'arm':38} {'docs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'peak RSS MB':>12} {'macro-F1':>9} {'agree ref':>9}")
    for r in result["rows"]:
        print(f"{r['name']:38} {r['docs_per_s']:8.1f} {_cell(r['latency_p50_ms'], '8.1f')} "
              f"{_cell(r['latency_p95_ms'], '8.1f')} {r['peak_rss_mb']:12.0f} {_cell(r['macro_f1'], '9.4f')} "
              f"{r['agreement_with_reference']:9.4f}")
    for key, shape in (("startup", "article"), ("startup_headline", "headline")):
        if key in result:
            s = result[key]
            print(f"start-up, one {shape}: predict {s['predict_s']:.2f} s (peak RSS {s['predict_peak_rss_mb']:.0f} MB) "
                  f"vs import torch, transformers {s['import_torch_transformers_s']:.2f} s (best of {s['repeats']}): "
                  f"{s['ratio']:.2f}x")
    ours, pipeline = result["rows"][2], result["rows"][0]
    if result["macro_f1_vs_pipeline"] is not None:
        accuracy = (f"macro-F1 {100 * result['macro_f1_vs_pipeline']:+.2f} points vs the pipeline, "
                    f"{100 * result['macro_f1_vs_full_reading']:+.2f} vs the reference's full reading")
    else:
        accuracy = (f"agreement with the reference's full reading {ours['agreement_with_reference']:.4f} "
                    f"(pipeline {pipeline['agreement_with_reference']:.4f})")
    print(f"ours ({ours['backend']}) / reference pipeline: {result['ratio']:.2f}x docs/s, {accuracy}")


def run(args: argparse.Namespace) -> int:
    corpus_options = {k: getattr(args, k) for k in CORPUS_OPTIONS if getattr(args, k) is not None}
    result = benchmark(args.data, args.model, args.reference, args.n, args.latency_n, args.backends,
                       args.batch_size, args.label_map, corpus_options, args.startup)
    atomic_write_text(Path(args.out), json.dumps(result, indent=2, ensure_ascii=False))
    print_table(result)
    return 0
