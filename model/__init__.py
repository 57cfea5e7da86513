"""Arabic news topic classification: the classifier, its preprocessing, base encoders and inference.

    from model import TopicClassifier, predict
    clf = TopicClassifier.from_pretrained("runs/my-model")
    clf.predict(["نص المقال ..."])
    predict("نص المقال ...", model="runs/my-model")
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

from .classifier import TopicClassifier, TopicSettings, prepare_text
from .errors import UserError
from .normalize import NormalizerConfig, normalize

__all__ = ["TopicClassifier", "TopicSettings", "NormalizerConfig", "UserError", "normalize", "predict",
           "prepare_text", "default_model_dir", "load"]

MODEL_ENV = "ARABIC_TOPICS_MODEL"


def default_model_dir() -> Path:
    """The model used when none is named: $ARABIC_TOPICS_MODEL, else the one installed with the package."""
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    shipped = Path(__file__).parent / "default"
    if (shipped / "config.json").is_file():
        return shipped
    raise UserError(f"no default model is installed; pass a model directory (or set {MODEL_ENV})")


@functools.lru_cache(maxsize=4)
def load(model: str | None = None, backend: str | None = None) -> TopicClassifier:
    """Load (once per process) a classifier from a directory, or the default model; backend: see
    model/backends.py (None: the machine's default)."""
    return TopicClassifier.from_pretrained(model, backend=backend)


def predict(texts, model: str | None = None, top_k: int | None = None, titles=None):
    """Classify one text (returns one result dict) or a list of texts (returns a list); the result, top_k
    and titles: TopicClassifier.predict."""
    results = load(str(model) if model else None).predict(texts, top_k=top_k, titles=titles)
    return results[0] if isinstance(texts, str) else results
