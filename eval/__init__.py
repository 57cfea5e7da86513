"""Evaluation of topic classifiers: metrics (sklearn.metrics), plots, error analysis, the TF-IDF baseline
and the evaluation protocols. Uses model/ (and training/'s readers and splits), never the reverse.

    from eval import evaluate_file
    metrics = evaluate_file("my_test.csv", model="runs/my-model", out_dir="reports/mine")
"""
from model.tfidf import TfidfBaseline
from .evaluate import evaluate

__all__ = ["evaluate", "evaluate_file", "TfidfBaseline"]


def __getattr__(name: str):
    # evaluate_file lives with the protocols, which import training.train, which imports eval.metrics: loading
    # it on first use keeps `import training.train` from meeting a half-initialised eval package.
    if name == "evaluate_file":
        from .protocols import evaluate_file

        return evaluate_file
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
