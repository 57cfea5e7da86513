"""`arabic-topics benchmark`: inference speed and accuracy of every backend against a plain transformers
pipeline, in one process, on the same documents and the same max length.

Rows:
- pipeline fp32, batch 1 and batch 32: `transformers.pipeline("text-classification")` on the same checkpoint,
  reading each article's head (truncation at the model's max length), as a user of Trainer + pipeline would;
- our backends (model/backends.py) through `TopicClassifier.predict`, which reads long articles in the
  model's windows (chunked inference is in the measured path) with length-sorted dynamic padding.
docs/s comes from batched runs over all documents; latency p50/p95 from one-document calls (what a caller
waits for a single article) on the first --latency-n documents. Peak RSS is the highest resident memory
sampled while the row ran (loading and export included). Agreement is with our fp32 predictions.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from model import TopicClassifier, UserError, prepare_text
from model.atomic import atomic_write_text
from model.backends import BACKENDS, default_backend
from model.hardware import default_device, describe_machine

from .metrics import masked_multi_label_scores, single_label_scores


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model directory (full checkpoint or light delta)")
    parser.add_argument("--data", required=True, help="the corpus the model was trained on; its test split "
                        "is rebuilt from the model's training_config.yaml")
    parser.add_argument("--n", type=int, default=1000, help="test documents to time (default 1000)")
    parser.add_argument("--latency-n", type=int, default=100, help="documents for one-document latency")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default="benchmark.json", help="JSON results (default benchmark.json)")


class PeakRSS:
    """Highest resident set size of this process while the block runs, sampled every 20 ms."""

    def __enter__(self):
        self.process, self.peak, self.running = psutil.Process(), 0, True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
        self.mb = self.peak / 2**20


def test_documents(model_dir: Path, data: str, n: int):
    """The first n articles of the model's own test split (same reading, mapping, dedup and seed)."""
    from training.train import load_splits

    from .protocols import training_config

    config = dataclasses.replace(training_config(model_dir), data=data)
    test = load_splits(config)[0]["test"]
    if len(test) == 0:
        raise UserError(f"{model_dir}: its split has no test articles")
    return test.select(range(min(n, len(test))))


class Scorer:
    """Macro-F1 of predicted label sets against the gold labels, single- or multi-label (masked to the
    labels each article decides), with sklearn.metrics through eval/metrics.py."""

    def __init__(self, documents, labels: list[str], multi_label: bool):
        self.labels, self.multi_label = labels, multi_label
        self.gold = list(documents["label"])
        self.known = list(documents["known"]) if "known" in documents.column_names else None

    def macro_f1(self, predicted: list[list[str]]) -> float:
        if not self.multi_label:
            return single_label_scores(self.gold, [p[0] for p in predicted])["macro_f1"]
        index = {lab: j for j, lab in enumerate(self.labels)}

        def matrix(rows):
            out = np.zeros((len(rows), len(self.labels)), dtype=int)
            for i, row in enumerate(rows):
                out[i, [index[x] for x in row if x in index]] = 1
            return out

        mask = matrix(self.known) if self.known is not None else np.ones((len(predicted), len(self.labels)))
        return masked_multi_label_scores(matrix(self.gold), matrix(predicted), mask, self.labels)["macro_f1"]


def decide(classifier: TopicClassifier, probabilities: np.ndarray) -> list[list[str]]:
    """Label sets from probabilities, by the model's own rule (top label, or every label over its threshold),
    so the pipeline and our backends are judged by the same decision."""
    return [r["labels"] if classifier.settings.multi_label else [r["label"]]
            for r in (classifier._result(row, 1) for row in probabilities)]


def run_pipeline(classifier, texts, batch_size: int, latency: bool) -> tuple[np.ndarray, float, list[float]]:
    """(probabilities, seconds, per-call latencies) of a plain text-classification pipeline."""
    from transformers import pipeline

    pipe = pipeline("text-classification", model=classifier.model, tokenizer=classifier.tokenizer,
                    device=classifier.device)
    options = dict(truncation=True, max_length=classifier.settings.max_length, top_k=None)
    column = {label: j for j, label in enumerate(classifier.labels)}

    def rows(outputs):
        probs = np.zeros((len(outputs), len(column)), dtype=np.float32)
        for i, scores in enumerate(outputs):
            for item in scores:
                probs[i, column[item["label"]]] = item["score"]
        return probs

    pipe(texts[:8], batch_size=batch_size, **options)  # warm-up: first-call kernel selection is not speed
    start, latencies, outputs = time.perf_counter(), [], []
    if latency:
        for text in texts:
            began = time.perf_counter()
            outputs.append(pipe(text, **options))
            latencies.append(time.perf_counter() - began)
    else:
        outputs = pipe(texts, batch_size=batch_size, **options)
    return rows(outputs), time.perf_counter() - start, latencies


def run_ours(classifier, texts, titles, batch_size: int, latency_n: int):
    """(probabilities, seconds for all documents batched, one-document latencies)."""
    classifier.predict_proba(texts[:8], titles[:8], batch_size)  # warm-up
    start = time.perf_counter()
    probs = classifier.predict_proba(texts, titles, batch_size)
    seconds = time.perf_counter() - start
    latencies = []
    for text, title in zip(texts[:latency_n], titles[:latency_n]):
        began = time.perf_counter()
        classifier.predict_proba([text], [title])
        latencies.append(time.perf_counter() - began)
    return probs, seconds, latencies


def benchmark(model_dir: str | Path, data: str, n: int = 1000, latency_n: int = 100,
              backends: list[str] = BACKENDS, batch_size: int = 32) -> dict:
    model_dir = Path(model_dir)
    documents = test_documents(model_dir, data, n)
    texts = list(documents["text"])  # datasets returns a lazy Column
    titles = list(documents["title"]) if "title" in documents.column_names else [None] * len(texts)
    rows = []
    with PeakRSS() as memory:
        reference = TopicClassifier.from_pretrained(model_dir, backend="fp32")
    scorer = Scorer(documents, reference.labels, reference.settings.multi_label)
    # The pipeline reads the same strings our model reads (prefix, normalisation, title), head-truncated.
    prepared = [prepare_text(text, title, reference.settings) for text, title in zip(texts, titles)]
    decisions = {}
    for name, batch, latency in (("pipeline fp32, batch 1", 1, True), ("pipeline fp32, batch 32", 32, False)):
        with PeakRSS() as memory:
            probs, seconds, latencies = run_pipeline(reference, prepared, batch, latency)
        decisions[name] = decide(reference, probs)
        rows.append(_row(name, len(texts), seconds, latencies, memory.mb, scorer.macro_f1(decisions[name])))
    for backend in backends:
        with PeakRSS() as memory:
            classifier = reference if backend == "fp32" else TopicClassifier.from_pretrained(model_dir, backend=backend)
            probs, seconds, latencies = run_ours(classifier, texts, titles, batch_size, min(latency_n, len(texts)))
        decisions[backend] = decide(reference, probs)
        rows.append(_row(f"ours {backend}", len(texts), seconds, latencies, memory.mb,
                         scorer.macro_f1(decisions[backend])))
        if classifier is not reference:
            del classifier
    fp32 = decisions.get("fp32")
    for row, key in zip(rows, decisions):
        row["agreement_with_fp32"] = (float(np.mean([a == b for a, b in zip(decisions[key], fp32)]))
                                      if fp32 is not None else None)
    default = default_backend(default_device())
    best_baseline = max(r["docs_per_s"] for r in rows if r["name"].startswith("pipeline"))
    ours = next((r for r in rows if r["name"] == f"ours {default}"), None)
    return {
        "model": str(model_dir), "data": str(data), "documents": len(texts),
        "max_length": reference.settings.max_length, "max_windows": reference.settings.max_windows,
        "windows_read": int(sum(len(reference.windows(t, ti)) for t, ti in zip(texts, titles))),
        "machine": describe_machine(),
        "rows": rows, "default_backend": default,
        "ratio_default_vs_best_baseline": ours["docs_per_s"] / best_baseline if ours else None,
        "macro_f1_drop_vs_fp32": (next(r["macro_f1"] for r in rows if r["name"] == "ours fp32") - ours["macro_f1"]
                                  if ours and fp32 is not None else None),
    }


def _row(name, n, seconds, latencies, rss_mb, macro_f1) -> dict:
    ms = np.asarray(latencies) * 1000
    return {"name": name, "docs_per_s": n / seconds, "seconds": seconds,
            "latency_p50_ms": float(np.percentile(ms, 50)) if len(ms) else None,
            "latency_p95_ms": float(np.percentile(ms, 95)) if len(ms) else None,
            "peak_rss_mb": rss_mb, "macro_f1": macro_f1}


def print_table(result: dict) -> None:
    print(f"{result['documents']} test documents, max length {result['max_length']}, our reading "
          f"{result['windows_read']} windows (≤{result['max_windows']} per article); {result['machine']['threads']} threads")
    print(f"{'':26} {'docs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'peak RSS MB':>12} {'macro-F1':>9} {'agree fp32':>10}")
    for r in result["rows"]:
        fmt = lambda v, spec: format(v, spec) if v is not None else format("-", ">" + spec.split(".")[0])  # noqa: E731
        print(f"{r['name']:26} {r['docs_per_s']:8.1f} {fmt(r['latency_p50_ms'], '8.1f')} "
              f"{fmt(r['latency_p95_ms'], '8.1f')} {r['peak_rss_mb']:12.0f} {r['macro_f1']:9.4f} "
              f"{fmt(r['agreement_with_fp32'], '10.4f')}")
    if result["ratio_default_vs_best_baseline"] is not None:
        drop = result["macro_f1_drop_vs_fp32"]
        print(f"default backend ({result['default_backend']}) / best pipeline baseline: "
              f"{result['ratio_default_vs_best_baseline']:.2f}x docs/s"
              + (f", macro-F1 {-drop * 100:+.2f} points vs fp32" if drop is not None else ""))


def run(args: argparse.Namespace) -> int:
    import transformers

    if args.n < 1 or args.latency_n < 0:
        raise UserError("--n must be at least 1 and --latency-n at least 0")
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    result = benchmark(args.model, args.data, args.n, args.latency_n, args.backends, args.batch_size)
    atomic_write_text(Path(args.out), json.dumps(result, indent=2, ensure_ascii=False))
    print_table(result)
    return 0
