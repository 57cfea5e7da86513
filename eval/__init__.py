"""Evaluation of topic classifiers: metrics (sklearn.metrics), plots, error analysis, the TF-IDF baseline
and the evaluation protocols. Uses model/ (and training/'s readers and splits), never the reverse.

    from eval import evaluate_file
    metrics = evaluate_file("my_test.csv", model="runs/my-model", out_dir="reports/mine")
"""
import importlib

# `evaluate` is imported here, not on first use: the function shares its name with its module, which
# importing the module would otherwise leave in its place.
from .evaluate import evaluate

__all__ = ["evaluate", "evaluate_file", "TfidfBaseline"]
_HOMES = {"evaluate_file": ".protocols", "TfidfBaseline": "model.tfidf"}


def __getattr__(name: str):
    # Loaded on first use, so that `import eval` does not pay for the training code.
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
