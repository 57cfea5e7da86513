"""What predict accepts, item by item. An article is a `str` with some non-space text; anything else (None,
bytes, numbers, empty or blank text) is an error for that item alone, so one bad item never costs the
others their results. A text that is valid but odd is classified and carries a warning: no Arabic letters,
mostly non-Arabic letters, or longer than the part the model reads. Every JSONL file the package reads
(articles, corpora, annotations) takes its lines through `json_object`, so each says what is wrong alike."""
from __future__ import annotations

import json
import re

ARABIC_LETTER = re.compile(r"[\u0620-\u064A\u066E-\u06D3\u06FA-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF"
                           r"\uFE70-\uFEFC]")
# The warning looks at the start of a text only: enough to judge its script, and a 5 MB text costs no more.
SAMPLE_CHARS = 20_000


def input_error(item) -> str | None:
    """Why `item` cannot be classified, or None when it can."""
    if isinstance(item, (bytes, bytearray)):
        return "bytes, not text: decode it first (e.g. data.decode('utf-8'))"
    if not isinstance(item, str):
        return f"{type(item).__name__}, not text"
    if not item.strip():
        return "empty text"
    try:
        item.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates, e.g. from decoding with errors="surrogateescape"
        return f"not valid Unicode (unpaired surrogate at position {exc.start})"
    return None


def script_warnings(text: str) -> list[str]:
    sample = text[:SAMPLE_CHARS]
    letters = sum(ch.isalpha() for ch in sample)
    arabic = len(ARABIC_LETTER.findall(sample))
    if arabic == 0:
        return ["no Arabic letters: the model was trained on Arabic news"]
    if arabic < 0.5 * letters:
        return [f"mostly non-Arabic text ({arabic / letters:.0%} of letters are Arabic)"]
    return []


def as_batch(texts, titles=None) -> tuple[list, list]:
    """(texts, titles) as two lists of one entry per text. A str text is a batch of one; a list or tuple is
    a batch. titles: None, one entry (a str or None) per text, or a str with a str text. A str title with a
    list of texts would be read one character per text, and titles of another length would be paired with
    the wrong texts: both are usage errors, as is anything else."""
    from .errors import UserError

    single = isinstance(texts, str)
    if not single and not isinstance(texts, (list, tuple)):
        raise UserError(f"predict takes a string or a list of strings, not {type(texts).__name__}")
    texts = [texts] if single else list(texts)
    if titles is None:
        return texts, [None] * len(texts)
    if isinstance(titles, str):
        if not single:
            raise UserError(f"titles is one string but texts is a list of {len(texts)}; give one title per text")
        return texts, [titles]
    try:
        titles = list(titles)
    except TypeError:
        raise UserError(f"titles must be a list of strings (or None), not {type(titles).__name__}") from None
    if len(titles) != len(texts):
        raise UserError(f"{len(titles)} titles for {len(texts)} texts; give one title (or None) per text")
    return texts, titles


def json_object(line: str) -> dict:
    """One JSON object from one line of a JSONL file (articles to predict, a training corpus, annotations);
    otherwise a ValueError with the reason, to which the caller adds the file and line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise ValueError(f"a JSON {type(record).__name__}, not an object")
    return record
