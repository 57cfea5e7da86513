"""The topic classifier: a transformers sequence-classification checkpoint plus our preprocessing settings.

A checkpoint directory is an ordinary Hugging Face model (config.json with id2label, model.safetensors,
tokenizer) that `AutoModelForSequenceClassification.from_pretrained` opens alone, plus `topic_config.json`
with what must be identical at training and predict time: normalisation, the encoder's text prefix,
max length, and for multi-label models the per-label thresholds.
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from . import delta
from .atomic import atomic_directory
from .errors import UserError
from .hardware import bf16_available, default_device
from .inputs import as_batch, input_error, script_warnings
from .normalize import NormalizerConfig, normalize

TOPIC_CONFIG = "topic_config.json"
SETTINGS_FORMAT = 1  # topic_config.json layout; raise when a change would mislead older readers


@dataclass
class TopicSettings:
    """Everything besides the weights that predict needs to reproduce training's view of a text."""

    normalizer: NormalizerConfig = field(default_factory=NormalizerConfig)
    text_prefix: str = ""
    max_length: int = 256
    multi_label: bool = False
    thresholds: dict[str, float] = field(default_factory=dict)
    display_names: dict[str, str] = field(default_factory=dict)
    # Long articles: read up to `max_windows` overlapping windows of max_length tokens and aggregate their
    # logits ("mean" or "max"); each window after the first starts with the prefix and title again when
    # `title_in_every_window`. max_windows = 1 reads the head only, exactly as training saw it.
    max_windows: int = 1
    window_overlap: int = 32
    aggregate: str = "mean"
    title_in_every_window: bool = True

    def to_dict(self) -> dict:
        data = {"format_version": SETTINGS_FORMAT, **asdict(self)}
        data["normalizer"] = self.normalizer.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TopicSettings":
        """Settings from topic_config.json; a file from a newer package, or with settings this version does
        not know, is refused (UserError) rather than half-applied."""
        data = dict(data)
        version = data.pop("format_version", 1)
        if not isinstance(version, int) or version > SETTINGS_FORMAT:
            raise UserError(f"written by a newer arabic-news-topics (format {version}, this version reads up to "
                            f"{SETTINGS_FORMAT}); upgrade the package")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise UserError(f"unknown settings {', '.join(sorted(unknown))}")
        try:
            data["normalizer"] = NormalizerConfig.from_dict(data.get("normalizer"))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return cls(**data)


def prepare_text(text: str, title: str | None, settings: TopicSettings) -> str:
    """The exact string the encoder sees: prefix + normalised title and body."""
    joined = f"{title}\n{text}" if title else text
    return settings.text_prefix + normalize(joined, settings.normalizer)


def aggregate_windows(scores: np.ndarray, owner: np.ndarray, n_texts: int, how: str) -> np.ndarray:
    """One row per text from its windows' rows: their mean, or their element-wise max."""
    if how not in ("mean", "max"):
        raise UserError(f"unknown window aggregation {how!r} (mean or max)")
    out = np.full((n_texts, scores.shape[1]), -np.inf if how == "max" else 0.0, dtype=np.float32)
    if how == "max":
        np.maximum.at(out, owner, scores)
    else:
        np.add.at(out, owner, scores)
        out /= np.maximum(np.bincount(owner, minlength=n_texts), 1)[:, None]
    return out


def _unloadable(path: Path, exc: Exception) -> UserError:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return UserError(f"{path}: cannot load the model ({exc.__class__.__name__}: {first})")


def check_head(path: Path) -> None:
    """Before loading a full checkpoint: its weights file must be readable and id2label must name exactly
    the classification head's outputs, or labels would be attached to the wrong scores."""
    from safetensors import safe_open

    weights = path / "model.safetensors"
    if not weights.is_file():
        return  # sharded or legacy checkpoints: transformers checks them while loading
    try:
        with safe_open(str(weights), framework="pt") as stored:
            heads = [k for k in stored.keys() if k.endswith(("out_proj.weight", "classifier.weight"))]
            outputs = stored.get_slice(heads[-1]).get_shape()[0] if heads else None
        id2label = json.loads((path / "config.json").read_text(encoding="utf-8")).get("id2label", {})
    except Exception as exc:  # truncated or garbled files raise safetensors' or json's own error types
        raise _unloadable(path, exc) from None
    if outputs is not None and outputs != len(id2label):
        raise UserError(f"{path}: config.json names {len(id2label)} labels (id2label) but the classification "
                        f"head has {outputs} outputs")


class TopicClassifier:
    def __init__(self, model, tokenizer, settings: TopicSettings, device: torch.device | None = None,
                 bf16: bool | None = None):
        self.device = device or default_device()
        # bf16 autocast is ~3x faster than fp32 on CPUs with AMX; None = use it where the hardware has it.
        self.bf16 = bf16_available(self.device) if bf16 is None else bf16
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.settings = settings
        id2label = model.config.id2label
        self.labels = [id2label[i] for i in range(len(id2label))]

    # ------------------------------------------------------------------------------------ persistence
    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | None = None, bf16: bool | None = None
                        ) -> "TopicClassifier":
        path = Path(path)
        if not (path / "config.json").is_file() or not (path / TOPIC_CONFIG).is_file():
            raise UserError(f"{path} is not a topic model directory (needs config.json and {TOPIC_CONFIG})")
        try:
            settings = TopicSettings.from_dict(json.loads((path / TOPIC_CONFIG).read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            raise UserError(f"{path / TOPIC_CONFIG}: unreadable ({exc.__class__.__name__})") from None
        except UserError as exc:
            raise UserError(f"{path / TOPIC_CONFIG}: {exc}") from None
        if delta.is_delta(path):  # a light directory: trained tensors only, overlaid on its verified base
            model, tokenizer = delta.load_delta(path)
        else:
            check_head(path)
            try:
                model = AutoModelForSequenceClassification.from_pretrained(path)
                tokenizer = AutoTokenizer.from_pretrained(path)
            except Exception as exc:  # truncated/corrupt safetensors, bad config.json: many error types
                raise _unloadable(path, exc) from None
        return cls(model, tokenizer, settings, torch.device(device) if device else None, bf16)

    def save_pretrained(self, path: str | Path) -> None:
        """Write the directory atomically (model/atomic.py): an interrupted save leaves `path` as it was."""
        with atomic_directory(path) as tmp:
            self.model.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)
            (tmp / TOPIC_CONFIG).write_text(json.dumps(self.settings.to_dict(), ensure_ascii=False, indent=2))

    # ------------------------------------------------------------------------------------- inference
    def _autocast(self):
        if self.bf16:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def windows(self, text: str, title: str | None = None) -> list[list[int]]:
        """Token ids of the windows the model reads for one article (special tokens included). The first is
        the head, tokenised exactly as in training; later ones continue the body with `window_overlap`."""
        return self._read(text, title)[0]

    def _read(self, text: str, title: str | None) -> tuple[list[list[int]], bool]:
        """(windows, whether some of the text lies beyond them)."""
        s = self.settings
        room = s.max_length - self.tokenizer.num_special_tokens_to_add()
        # Beyond the windows we read, text is never tokenised: a 5 MB article costs no more than a long one.
        cut = s.max_windows * room * 16
        prepared = prepare_text(text[:cut], title, s)
        ids = self.tokenizer(prepared, add_special_tokens=False, verbose=False)["input_ids"]  # windows follow
        heads, end = [ids[:room]], room
        if s.max_windows > 1 and len(ids) > room:
            lead = self.tokenizer(prepare_text("", title, s), add_special_tokens=False)["input_ids"] \
                if s.title_in_every_window else []
            lead = lead[: room // 2]
            step, start = room - len(lead) - s.window_overlap, room - s.window_overlap
            while start < len(ids) and len(heads) < s.max_windows:
                heads.append(lead + ids[start : start + room - len(lead)])
                end = start + room - len(lead)
                start += step
        # The tokenizer's own special tokens around each window ([CLS] … [SEP], <s> … </s>): it encodes the
        # empty string as exactly those.
        specials = self.tokenizer("")["input_ids"]
        return [specials[:1] + w + specials[1:] for w in heads], len(text) > cut or len(ids) > end

    def logits(self, texts: Sequence[str], titles: Sequence[str | None] | None = None,
               batch_size: int = 32) -> np.ndarray:
        """Raw scores, one row per text; a long text's windows are aggregated (settings.aggregate)."""
        return self._logits(texts, titles, batch_size)[0]

    def _logits(self, texts, titles, batch_size) -> tuple[np.ndarray, list[bool]]:
        titles = titles if titles is not None else [None] * len(texts)
        windows, owner, truncated = [], [], []
        for n, (text, title) in enumerate(zip(texts, titles)):
            read, cut = self._read(text, title if isinstance(title, str) else None)
            windows.extend(read)
            owner.extend([n] * len(read))
            truncated.append(cut)
        scores = aggregate_windows(self.score_windows(windows, batch_size), np.asarray(owner, dtype=np.int64),
                                   len(texts), self.settings.aggregate)
        return scores, truncated

    def score_windows(self, windows: list[list[int]], batch_size: int = 32) -> np.ndarray:
        """Logits of each window (token ids with special tokens), sorted by length and padded per batch."""
        order = np.argsort([len(w) for w in windows], kind="stable")
        scores = np.zeros((len(windows), len(self.labels)), dtype=np.float32)
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = self.tokenizer.pad({"input_ids": [windows[i] for i in idx]}, return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                scores[idx] = self.model(**batch).logits.float().cpu().numpy()
        return scores

    def _probabilities(self, logits: np.ndarray) -> np.ndarray:
        logits = torch.from_numpy(logits)
        return (torch.sigmoid(logits) if self.settings.multi_label else torch.softmax(logits, dim=-1)).numpy()

    def predict_proba(self, texts: Sequence[str] | str, titles=None, batch_size: int = 32) -> np.ndarray:
        """One row of probabilities per text (columns: self.labels). An array has no room for a per-item
        error, so any text predict would refuse raises UserError naming it."""
        texts = as_batch(texts)
        for i, text in enumerate(texts):
            if (problem := input_error(text)) is not None:
                raise UserError(f"text {i}: {problem}")
        return self._probabilities(self.logits(texts, titles, batch_size))

    def predict(self, texts: Sequence[str] | str, top_k: int = 1, titles=None, batch_size: int = 32) -> list[dict]:
        """One entry per text, in order. A result has `label` and `score` of the best label, `labels` (the
        top_k labels, or for multi-label models every label above its threshold), `scores` for all labels and
        `warnings` (valid but odd input, see model/inputs.py). A text that cannot be classified gets
        {"error": why} instead, and the other texts keep their results."""
        texts = as_batch(texts)
        titles = list(titles) if titles is not None else [None] * len(texts)
        errors = [input_error(text) for text in texts]
        good = [i for i, problem in enumerate(errors) if problem is None]
        logits, truncated = self._logits([texts[i] for i in good], [titles[i] for i in good], batch_size)
        results: list[dict] = [{"error": problem} for problem in errors]
        for row, i, cut in zip(self._probabilities(logits), good, truncated):
            warnings = script_warnings(texts[i])
            if cut:
                warnings.append(f"long text: only its first {self.settings.max_windows} window(s) of "
                                f"{self.settings.max_length} tokens were read")
            results[i] = {**self._result(row, top_k), "warnings": warnings}
        return results

    def _result(self, row: np.ndarray, top_k: int) -> dict:
        ranked = np.argsort(-row, kind="stable")
        scores = {self.labels[i]: round(float(row[i]), 6) for i in range(len(self.labels))}
        if self.settings.multi_label:
            chosen = [self.labels[i] for i in ranked
                      if row[i] >= self.settings.thresholds.get(self.labels[i], 0.5)]
        else:
            chosen = [self.labels[i] for i in ranked[: max(1, top_k)]]
        best = self.labels[ranked[0]]
        return {"label": best, "score": scores[best], "labels": chosen, "scores": scores}
