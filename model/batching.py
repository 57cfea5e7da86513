"""Dynamic batching for `arabic-topics serve`: requests that arrive together share one forward pass.

One worker thread owns the model. It takes the oldest waiting request, then gathers the requests waiting
behind it until `max_batch` texts are gathered, and runs them all as one `TopicClassifier.predict` call.
It waits for more (at most `max_wait` seconds after the first) only while more are expected: as many
requests as the last pass carried (clients that were just answered send their next request), or one the
server is reading (`incoming`). So a lone client is answered at once, as fast as in-process predict, eight
clients sending together share one pass without waiting out the deadline, and under load the queue already
holds a full batch when a pass ends. A request is never split (one larger than `max_batch` runs alone) and
its results come back in its own order. A pass that raises is rerun request by request, so a request that
breaks the model fails alone and its batch-mates still get their results.

Explanations (one forward pass per sentence) run alone, in the same worker: the model is only ever used
from this one thread.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import UserError
from .inputs import input_error

if TYPE_CHECKING:
    from .classifier import TopicClassifier

STOP = object()  # queued by close(): the worker finishes what was queued before it, then returns


class Busy(Exception):
    """The queue is full: the server answers 503 rather than let waiting times grow without bound."""


@dataclass
class Job:
    texts: list
    titles: list
    explain: bool = False
    future: Future = field(default_factory=Future)


class BatchStats:
    """Counters of the passes run so far (thread-safe): how many requests and texts each pass carried."""

    def __init__(self):
        self._lock = threading.Lock()
        self.passes = self.requests = self.texts = self.failed_requests = self.explained = 0
        self.max_requests = self.max_texts = 0
        self.requests_per_pass: Counter = Counter()

    def record(self, requests: int, texts: int) -> None:
        with self._lock:
            self.passes += 1
            self.requests += requests
            self.texts += texts
            self.max_requests = max(self.max_requests, requests)
            self.max_texts = max(self.max_texts, texts)
            self.requests_per_pass[requests] += 1

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict:
        with self._lock:
            return {"passes": self.passes, "requests": self.requests, "texts": self.texts,
                    "mean_requests_per_pass": round(self.requests / self.passes, 3) if self.passes else None,
                    "max_requests_per_pass": self.max_requests, "max_texts_per_pass": self.max_texts,
                    "requests_per_pass": {str(k): v for k, v in sorted(self.requests_per_pass.items())},
                    "explain_requests": self.explained, "failed_requests": self.failed_requests}


class DynamicBatcher:
    """submit() from any thread; the returned future holds predict's list of dicts for the job's texts."""

    def __init__(self, classifier: TopicClassifier, max_batch: int = 32, max_wait: float = 0.005,
                 max_queue: int = 1024, batch_size: int = 32):
        if max_batch < 1 or max_wait < 0 or max_queue < 1:
            raise UserError("max_batch and max_queue must be at least 1, max_wait at least 0")
        self.classifier, self.max_batch, self.max_wait, self.batch_size = classifier, max_batch, max_wait, batch_size
        self.stats = BatchStats()
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        # Requests the server has begun to read but not yet submitted. Changed by the server's event loop
        # only (one thread, so += is safe); the worker only reads it.
        self.incoming = 0

    def start(self) -> "DynamicBatcher":
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="arabic-topics-batcher", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 30) -> None:
        """Finish the jobs already queued, then stop the worker."""
        if self._thread is not None:
            self._queue.put(STOP)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, texts: list, titles: list | None = None, explain: bool = False) -> Future:
        job = Job(list(texts), list(titles) if titles is not None else [None] * len(texts), explain)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise Busy(f"{self._queue.maxsize} requests are already waiting; retry later") from None
        return job.future

    # ------------------------------------------------------------------------------------------ worker
    def _loop(self) -> None:
        held = None  # a job taken from the queue that did not fit the last pass: it leads the next one
        expected = 1  # requests the last pass carried: as many are waited for in the next
        while True:
            job = held if held is not None else self._queue.get()
            held = None
            if job is STOP:
                return
            if job.explain:
                self._explain(job)
                continue
            batch, size = [job], len(job.texts)
            deadline = time.monotonic() + self.max_wait
            while size < self.max_batch:
                try:  # what is already waiting joins the pass in any case
                    following = self._queue.get_nowait()
                except queue.Empty:
                    left = deadline - time.monotonic()
                    if left <= 0 or (len(batch) >= expected and self.incoming == 0):
                        break
                    try:  # woken at once by a new job; at most every millisecond to look at `incoming` again
                        following = self._queue.get(timeout=min(left, 0.001))
                    except queue.Empty:
                        continue
                if following is STOP or following.explain or size + len(following.texts) > self.max_batch:
                    held = following
                    break
                batch.append(following)
                size += len(following.texts)
            self._run(batch)
            expected = len(batch)

    def _run(self, batch: list[Job]) -> None:
        texts = [t for job in batch for t in job.texts]
        titles = [t for job in batch for t in job.titles]
        try:
            results = self.classifier.predict(texts, titles=titles, batch_size=self.batch_size)
        except Exception as exc:  # whatever the model raised: the caller answers 500
            if len(batch) == 1:
                self.stats.count("failed_requests")
                _settle(batch[0].future, error=exc)
            else:  # find the request that broke the pass; the others get their results
                for job in batch:
                    self._run([job])
            return
        self.stats.record(len(batch), len(texts))
        start = 0
        for job in batch:
            _settle(job.future, result=results[start : start + len(job.texts)])
            start += len(job.texts)

    def _explain(self, job: Job) -> None:
        """explain() per text (predict's result and the sentences behind each label); an item predict would
        refuse gets predict's {"error": ...}, as in predict."""
        self.stats.count("explained")
        try:
            results = [{"error": problem} if (problem := input_error(text)) is not None
                       else self.classifier.explain(text, title) for text, title in zip(job.texts, job.titles)]
        except Exception as exc:
            self.stats.count("failed_requests")
            _settle(job.future, error=exc)
            return
        _settle(job.future, result=results)


def _settle(future: Future, result=None, error: BaseException | None = None) -> None:
    # A future whose waiter is gone (the client hung up and the handler was cancelled) refuses a second
    # settle; the worker must go on regardless.
    if future.set_running_or_notify_cancel():
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
