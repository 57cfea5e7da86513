"""`arabic-topics benchmark-serve`: throughput and latency of `arabic-topics serve` under 1, 8 and 48 concurrent
clients, against in-process `predict` on the same texts.

    arabic-topics benchmark-serve ../shared/datasets/ant-multisource-v2.1 --n 300 --out serve-benchmark.json

The articles are read as `arabic-topics benchmark --data` reads them (eval/benchmark.py read_documents: a
seeded sample of --n from a corpus folder or table, or a .txt file of one article per line).

Arms, on the same texts, after a warm-up each:
- in-process predict, batched: one `TopicClassifier.predict` call on all the texts (batch 32, sorted by
  length): the throughput a server is measured against.
- in-process predict, one text per call: what a server without batching could at best do.
- the server: `arabic-topics serve` started as a subprocess on a free port of 127.0.0.1, then for each
  concurrency level, that many client threads (one keep-alive connection each) sending one article per
  request, --requests requests in all (cycling through the texts), each client sending its next request as
  soon as its last one is answered. docs/s is requests / wall time; p50 / p99 are per-request latencies seen by
  the client; texts per pass come from the server's /stats (dynamic batching).
The clients run on the same machine as the server and take some of its CPU, as a co-located proxy would.
The server's label sets for the texts are compared with in-process predict's (`agreement`): with int8
weights a text's scores can move in the last digits with the texts it is batched with.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from model import TopicClassifier, UserError, default_model_dir
from model.atomic import atomic_write_text
from model.hardware import describe_machine
from training.config import CORPUS_OPTIONS

from .benchmark import read_documents
from .cli import add_corpus_arguments
from .evaluate import shown_path

STARTUP_TIMEOUT = 600  # seconds for the server to load its model (a first run may build an ONNX export)
REQUEST_TIMEOUT = 120


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="articles: a corpus folder or CSV/TSV/JSONL file, or a .txt file with one "
                        "article per line (read as arabic-topics benchmark --data reads it)")
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    parser.add_argument("--n", type=int, default=300, help="articles to use: a seeded sample (default 300)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 48],
                        help="concurrency levels (default 1 8 48)")
    parser.add_argument("--requests", type=int, help="requests per level, one article each (default: twice the "
                        "articles, and at least 20 per client)")
    parser.add_argument("--max-batch", type=int, help="the server's --max-batch (default: serve's)")
    parser.add_argument("--max-wait-ms", type=float, help="the server's --max-wait-ms (default: serve's)")
    parser.add_argument("--out", default="serve-benchmark.json", help="JSON results (default serve-benchmark.json)")
    add_corpus_arguments(parser)


# ------------------------------------------------------------------------------------------ in process
def in_process(classifier: TopicClassifier, texts: list[str], titles: list) -> tuple[list[dict], list[dict]]:
    """(rows for the batched and one-per-call arms, the batched predictions)."""
    classifier.predict(texts[:8], titles=titles[:8])  # warm-up: first-call kernel selection is not speed
    started = time.perf_counter()
    batched = classifier.predict(texts, titles=titles)
    seconds = time.perf_counter() - started
    latencies = []
    for text, title in zip(texts, titles):
        began = time.perf_counter()
        classifier.predict([text], titles=[title])
        latencies.append(time.perf_counter() - began)
    rows = [{"name": "in-process predict, batched (32)", "clients": None, "docs_per_s": len(texts) / seconds,
             "latency_p50_ms": None, "latency_p99_ms": None, "texts_per_pass": min(32, len(texts))},
            {"name": "in-process predict, one text per call", "clients": None,
             "docs_per_s": len(texts) / sum(latencies), **_percentiles(latencies), "texts_per_pass": 1.0}]
    return rows, batched


def _percentiles(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"latency_p50_ms": float(np.percentile(ms, 50)), "latency_p99_ms": float(np.percentile(ms, 99))}


# ---------------------------------------------------------------------------------------------- server
class Server:
    """`arabic-topics serve` in a subprocess on a free port of 127.0.0.1, stopped (SIGINT, as Ctrl-C) on exit."""

    def __init__(self, model_dir: Path, options: list[str]):
        command = [sys.executable, "-m", "arabic_topics", "serve", "--model", str(model_dir), "--host",
                   "127.0.0.1", "--port", "0", *options]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = _first_line(self.process, STARTUP_TIMEOUT)
        if not line.startswith("serving "):
            self.stop()
            last = (self.process.stderr.read().strip().splitlines() or [line or "no output"])[-1]
            raise UserError(f"the server did not start: {last}")
        where = urlsplit(line.rsplit(" at ", 1)[1])
        self.host, self.port = where.hostname, where.port

    def get(self, path: str) -> dict:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request("GET", path)
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    """The server's first line of stdout (its address), or "" if it exits or stays silent past `timeout`."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0].strip() if lines else ""


def load(server: Server, bodies: list[bytes], clients: int, requests: int) -> tuple[dict, list]:
    """`clients` threads, one keep-alive connection each, sending `requests` bodies in all (cycling through
    `bodies`); (the row, the predictions of the first len(bodies) requests by body)."""
    before = server.get("/stats")
    lock, counter = threading.Lock(), iter(range(requests))
    latencies = [0.0] * requests
    predictions: list = [None] * len(bodies)
    failures: list[str] = []
    start = threading.Barrier(clients + 1)

    def client():
        connection = http.client.HTTPConnection(server.host, server.port, timeout=REQUEST_TIMEOUT)
        start.wait()
        try:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None or failures:
                    return
                began = time.perf_counter()
                connection.request("POST", "/predict", bodies[i % len(bodies)],
                                   {"Content-Type": "application/json"})
                response = connection.getresponse()
                payload = response.read()
                latencies[i] = time.perf_counter() - began
                if response.status != 200:
                    failures.append(f"HTTP {response.status}: {payload[:200].decode(errors='replace')}")
                    return
                if i < len(bodies):
                    predictions[i] = json.loads(payload)["predictions"][0]
        except (OSError, http.client.HTTPException) as exc:
            failures.append(f"{exc.__class__.__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if failures:
        raise UserError(f"{len(failures)} request(s) failed with {clients} clients; first: {failures[0]}")
    after = server.get("/stats")
    passes, texts = after["passes"] - before["passes"], after["texts"] - before["texts"]
    row = {"name": f"server, {clients} client{'s' if clients > 1 else ''}", "clients": clients,
           "requests": requests, "docs_per_s": requests / seconds, **_percentiles(latencies),
           "texts_per_pass": texts / passes if passes else None}
    return row, predictions


# ------------------------------------------------------------------------------------------- benchmark
def benchmark(data: str, model: str | None = None, n: int = 300, clients: list[int] = (1, 8, 48),
              requests: int | None = None, server_options: list[str] = (), label_map: str | None = None,
              corpus_options: dict | None = None) -> dict:
    if n < 1 or any(c < 1 for c in clients) or (requests is not None and requests < 1):
        raise UserError("--n, --clients and --requests must be at least 1")
    model_dir = Path(model) if model else default_model_dir()
    classifier = TopicClassifier.from_pretrained(model_dir)
    docs = read_documents(data, n, classifier.labels, model_dir, label_map, corpus_options)
    rows, expected = in_process(classifier, docs.texts, docs.titles)
    bodies = [json.dumps({"texts": [t], "titles": [ti]}, ensure_ascii=False).encode()
              for t, ti in zip(docs.texts, docs.titles)]
    agreement = None
    with Server(model_dir, list(server_options)) as server:
        for level in clients:
            count = requests or max(2 * len(bodies), 20 * level)
            load(server, bodies[: 2 * level], level, 2 * level)  # warm-up: connections, the first passes
            row, predictions = load(server, bodies, level, count)
            rows.append(row)
            if agreement is None and all(p is not None for p in predictions):
                agreement = float(np.mean([set(p["labels"]) == set(e["labels"])
                                           for p, e in zip(predictions, expected)]))
        health = server.get("/health")
    batched = rows[0]["docs_per_s"]
    for row in rows:
        row["vs_in_process_batched"] = row["docs_per_s"] / batched
    machine = describe_machine()
    machine["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {"date": date.today().isoformat(), "command": shlex.join(["arabic-topics", *sys.argv[1:]]),
            "machine": machine, "data": shown_path(data), "documents": len(docs.texts),
            "documents_in_data": docs.read, "model": shown_path(model_dir), "backend": classifier.backend,
            "server_limits": health["limits"], "rows": rows, "label_agreement_with_in_process": agreement}


def print_table(result: dict) -> None:
    limits = result["server_limits"]
    print(f"{result['documents']} articles of {result['documents_in_data']} in {result['data']}; model "
          f"{result['model']} ({result['backend']}); {result['machine']['threads']} threads; server max batch "
          f"{limits['max_batch']}, max wait {limits['max_wait_ms']:g} ms")
    print(f"{'arm':40} {'docs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'texts/pass':>10} {'vs batched':>10}")
    for r in result["rows"]:
        cells = [f"{r[k]:8.1f}" if r[k] is not None else f"{'-':>8}" for k in ("latency_p50_ms", "latency_p99_ms")]
        per_pass = f"{r['texts_per_pass']:10.1f}" if r["texts_per_pass"] is not None else f"{'-':>10}"
        print(f"{r['name']:40} {r['docs_per_s']:8.1f} {cells[0]} {cells[1]} {per_pass} {r['vs_in_process_batched']:10.2f}")
    if result["label_agreement_with_in_process"] is not None:
        print(f"label sets equal to in-process predict's: {result['label_agreement_with_in_process']:.4f}")


def run(args: argparse.Namespace) -> int:
    options = []
    if args.max_batch is not None:
        options += ["--max-batch", str(args.max_batch)]
    if args.max_wait_ms is not None:
        options += ["--max-wait-ms", str(args.max_wait_ms)]
    corpus_options = {k: getattr(args, k) for k in CORPUS_OPTIONS if getattr(args, k) is not None}
    result = benchmark(args.data, args.model, args.n, args.clients, args.requests, options, args.label_map,
                       corpus_options)
    atomic_write_text(Path(args.out), json.dumps(result, indent=2, ensure_ascii=False))
    print_table(result)
    return 0
