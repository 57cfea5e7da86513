"""Why a label: the sentences of an article that raise its probability most.

A sentence's effect on a label is the label's probability for the article as predict reads it (title,
normalisation, windows) minus its probability for the same article without that sentence: positive when the
sentence raises it. Every variant is scored in one batched pass, so explaining costs one forward pass per
sentence scored, at most `max_sentences` of them; sentences beyond the part of the article the model reads
cannot change its reading and are not scored: `read_chars` and `note` say which part was read, how many
sentences were scored, and whether the text goes on beyond them.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from .scores import probabilities
from .errors import UserError
from .inputs import input_error

if TYPE_CHECKING:
    from .classifier import TopicClassifier

# Sentence ends: Arabic and Latin full stop, question and exclamation marks, the Arabic semicolon and comma
# (Arabic news prose often joins whole clauses with "،"), each followed by a space or the end; and line breaks.
BOUNDARY = re.compile(r"[.!?\u061F\u061B\u060C]+(?=\s|$)|\n+")
MIN_WORDS = 3  # a shorter piece ("قال،") joins the sentence after it
MAX_SENTENCES = 40


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`, stripped of surrounding spaces; pieces of fewer
    than MIN_WORDS words are joined to the next sentence (the last one to the one before it)."""
    spans, start = [], 0
    for match in BOUNDARY.finditer(text):
        end = match.start() if match.group().startswith("\n") else match.end()
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    stripped = []
    for start, end in spans:
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            stripped.append((start + lead, start + len(piece.rstrip())))
    merged: list[tuple[int, int]] = []
    pending = None
    for start, end in stripped:
        start = pending if pending is not None else start
        if len(text[start:end].split()) < MIN_WORDS:
            pending = start
            continue
        merged.append((start, end))
        pending = None
    if pending is not None:
        if merged:
            merged[-1] = (merged[-1][0], stripped[-1][1])
        else:
            merged.append((pending, stripped[-1][1]))
    return merged


def explain(classifier: TopicClassifier, text: str, title: str | None = None, labels: list[str] | None = None,
            top_n: int = 3, max_sentences: int = MAX_SENTENCES, batch_size: int = 32) -> dict:
    """The prediction for `text` with, for each label it returns (or each of `labels`), the `top_n` sentences
    that raise that label's probability most, most first, each {"sentence", "start", "end", "effect"}."""
    if (problem := input_error(text)) is not None:
        raise UserError(f"cannot explain: {problem}")
    if top_n < 1 or max_sentences < 1:
        raise UserError("top_n and max_sentences must be at least 1")
    unknown = sorted(set(labels or ()) - set(classifier.labels))
    if unknown:
        raise UserError(f"unknown label(s) {', '.join(unknown)} (the model's: {', '.join(classifier.labels)})")
    spans = read_sentences(classifier, text, title)
    scored = spans[:max_sentences]
    # the article and each variant without one sentence, in one batched pass; logits, not predict: an article
    # of one sentence without it is blank, which predict refuses
    variants = [text] + [text[:start] + " " + text[end:] for start, end in scored]
    logits, truncated = classifier._logits(variants, [title] * len(variants), batch_size)
    probs = probabilities(logits, classifier.settings.multi_label)
    result = classifier._entry(probs[0], text, truncated[0], 1)  # what predict returns for the article
    best = [result["label"]] if result["label"] in classifier.labels else []  # a residual topic may be no label
    asked = labels or result["labels"] or best
    explanations: dict[str, list[dict]] = {label: [] for label in asked}
    columns = [classifier.labels.index(label) for label in asked]
    effects = probs[:1, columns] - probs[1:, columns]
    for j, label in enumerate(asked):
        for i in np.argsort(-effects[:, j], kind="stable")[:top_n]:
            start, end = scored[i]
            explanations[label].append({"sentence": text[start:end], "start": start, "end": end,
                                        "effect": round(float(effects[i, j]), 6)})
    beyond = truncated[0]
    read_end = spans[-1][1] if spans else 0
    return {**result, "explanations": explanations, "sentences_scored": len(scored),
            "sentences_read": len(spans), "read_chars": read_end, "text_beyond_read": beyond,
            "note": _note(classifier, len(scored), len(spans), read_end, len(text), beyond, max_sentences)}


def read_sentences(classifier: TopicClassifier, text: str, title: str | None) -> list[tuple[int, int]]:
    """The sentences of `text` the model reads: up to the first one whose end already gives the windows of
    the whole text (found by bisection over the sentence ends, a few tokenisations of a prefix each)."""
    spans = split_sentences(text[: classifier.read_limit()])
    whole = classifier.windows(text, title)
    lo, hi = 0, len(spans)
    while lo < hi:
        mid = (lo + hi) // 2
        if classifier.windows(text[: spans[mid][1]], title) == whole:
            hi = mid
        else:
            lo = mid + 1
    return spans[: lo + 1]


def _note(classifier: TopicClassifier, scored: int, read: int, read_end: int, length: int, beyond: bool,
          max_sentences: int) -> str:
    s = classifier.settings
    parts = [f"the model reads {s.max_windows} window(s) of {s.max_length} tokens: the title and the first "
             f"{read} sentence(s), characters 0-{read_end} of {length}", f"{scored} sentence(s) scored"]
    if read > scored:
        parts.append(f"{read - scored} more left unscored (max_sentences {max_sentences})")
    if beyond:
        parts.append("sentences after the part read cannot change the reading and were not scored")
    return "; ".join(parts)
