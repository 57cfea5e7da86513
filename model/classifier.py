"""The topic classifier: a transformers sequence-classification checkpoint plus our preprocessing settings.

A checkpoint directory is an ordinary Hugging Face model (config.json with id2label, model.safetensors,
tokenizer) that `AutoModelForSequenceClassification.from_pretrained` opens alone, plus `topic_config.json`
with what must be identical at training and predict time: normalisation, the encoder's text prefix,
max length, and for multi-label models the per-label thresholds.
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from .errors import UserError
from .hardware import bf16_available, default_device
from .normalize import NormalizerConfig, normalize

TOPIC_CONFIG = "topic_config.json"


@dataclass
class TopicSettings:
    """Everything besides the weights that predict needs to reproduce training's view of a text."""

    normalizer: NormalizerConfig = field(default_factory=NormalizerConfig)
    text_prefix: str = ""
    max_length: int = 256
    multi_label: bool = False
    thresholds: dict[str, float] = field(default_factory=dict)
    display_names: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["normalizer"] = self.normalizer.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TopicSettings":
        data = dict(data)
        data["normalizer"] = NormalizerConfig.from_dict(data.get("normalizer"))
        return cls(**data)


def prepare_text(text: str, title: str | None, settings: TopicSettings) -> str:
    """The exact string the encoder sees: prefix + normalised title and body."""
    joined = f"{title}\n{text}" if title else text
    return settings.text_prefix + normalize(joined, settings.normalizer)


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
        settings = TopicSettings.from_dict(json.loads((path / TOPIC_CONFIG).read_text()))
        model = AutoModelForSequenceClassification.from_pretrained(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
        return cls(model, tokenizer, settings, torch.device(device) if device else None, bf16)

    def save_pretrained(self, path: str | Path) -> None:
        path = Path(path)
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        (path / TOPIC_CONFIG).write_text(json.dumps(self.settings.to_dict(), ensure_ascii=False, indent=2))

    # ------------------------------------------------------------------------------------- inference
    def _autocast(self):
        if self.bf16:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def logits(self, texts: Sequence[str], titles: Sequence[str | None] | None = None,
               batch_size: int = 32) -> np.ndarray:
        """Raw scores, one row per text. Texts are sorted by length and padded per batch only."""
        titles = titles if titles is not None else [None] * len(texts)
        prepared = [prepare_text(t, ti, self.settings) for t, ti in zip(texts, titles)]
        encoded = self.tokenizer(prepared, truncation=True, max_length=self.settings.max_length)["input_ids"]
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = self.tokenizer.pad({"input_ids": [encoded[i] for i in idx]}, return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                out[idx] = self.model(**batch).logits.float().cpu().numpy()
        return out

    def predict_proba(self, texts: Sequence[str] | str, titles=None, batch_size: int = 32) -> np.ndarray:
        texts = [texts] if isinstance(texts, str) else list(texts)
        logits = torch.from_numpy(self.logits(texts, titles, batch_size))
        probs = torch.sigmoid(logits) if self.settings.multi_label else torch.softmax(logits, dim=-1)
        return probs.numpy()

    def predict(self, texts: Sequence[str] | str, top_k: int = 1, titles=None, batch_size: int = 32) -> list[dict]:
        """Per text: `label` and `score` of the best label, `labels` (the top_k labels, or for multi-label
        models every label above its threshold), and `scores` for all labels."""
        probs = self.predict_proba(texts, titles, batch_size)
        return [self._result(row, top_k) for row in probs]

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
