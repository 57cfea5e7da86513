"""The encoder's tokenizer as the classifier reads text with it: the `tokenizers` library on the model's own
tokenizer.json. It needs neither transformers nor torch, so a model run by ONNX Runtime (the fast default)
classifies an article without importing either: start-up at import speed (docs/benchmarks.md)."""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np

from .errors import UserError


# Parsed tokenizers by the sha256 of their tokenizer.json. The default model and the two models it hands texts
# to carry the same e5-small tokenizer, and parsing its 250k pieces took 0.55 s a copy: a headline's start-up
# parsed it three times (docs/benchmarks.md).
_PARSED: dict[str, object] = {}
_PARSING = threading.Lock()  # models loaded side by side parse a shared tokenizer once


class Tokens:
    """Token ids of texts (without special tokens), the special tokens around a window, and padded batches."""

    def __init__(self, backend, pad_id: int):
        self.backend, self.pad_id = backend, int(pad_id)
        # The tokenizer's own special tokens around a text ([CLS] … [SEP], <s> … </s>): it encodes the empty
        # string as exactly those.
        self.specials = backend.encode("").ids

    @classmethod
    def from_dir(cls, path: str | Path) -> "Tokens":
        """From a model directory's tokenizer.json, with the pad id its config.json names."""
        from tokenizers import Tokenizer

        path = Path(path)
        try:
            text = (path / "tokenizer.json").read_bytes()
            key = hashlib.sha256(text).hexdigest()
            with _PARSING:
                if key not in _PARSED:
                    _PARSED[key] = Tokenizer.from_str(text.decode("utf-8"))
                backend = _PARSED[key]
            pad_id = json.loads((path / "config.json").read_text(encoding="utf-8")).get("pad_token_id")
        except Exception as exc:  # a missing or garbled file raises OSError, ValueError or tokenizers' own error
            raise UserError(f"{path}: cannot read its tokenizer ({exc.__class__.__name__})") from None
        return cls(backend, pad_id if pad_id is not None else backend.token_to_id("<pad>") or 0)

    @classmethod
    def from_transformers(cls, tokenizer) -> "Tokens":
        """From a transformers fast tokenizer: the same `tokenizers` object it runs."""
        return cls(tokenizer.backend_tokenizer, tokenizer.pad_token_id)

    def ids(self, text: str) -> list[int]:
        # Windows are cut by the classifier, never by the tokenizer: a transformers call on the same object
        # may have left truncation or padding switched on.
        if self.backend.truncation is not None:
            self.backend.no_truncation()
        if self.backend.padding is not None:
            self.backend.no_padding()
        return self.backend.encode(text, add_special_tokens=False).ids

    def with_specials(self, ids: list[int]) -> list[int]:
        return self.specials[:1] + ids + self.specials[1:]

    def pad(self, windows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """(input ids, attention mask) of a batch, padded on the right to its longest window."""
        longest = max(len(w) for w in windows)
        ids = np.full((len(windows), longest), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(windows), longest), dtype=np.int64)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = window
            mask[row, : len(window)] = 1
        return ids, mask
