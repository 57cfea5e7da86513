"""Evaluation of topic classifiers: metrics (sklearn.metrics), plots, error analysis, the TF-IDF baseline
and the evaluation protocols. Uses model/ (and training/'s readers and splits), never the reverse.

    from eval import evaluate_file
    metrics = evaluate_file("my_test.csv", model="runs/my-model", out_dir="reports/mine")
"""
import importlib

__all__ = ["evaluate", "evaluate_file", "TfidfBaseline"]
_HOMES = {"evaluate": ".evaluate", "evaluate_file": ".protocols", "TfidfBaseline": "model.tfidf"}


def __getattr__(name: str):
    # Loaded on first use, so that `arabic-topics evaluate --help` (which imports eval.cli, and with it this
    # package) does not pay for scikit-learn, matplotlib and the training code.
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
