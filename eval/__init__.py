"""Evaluation of topic classifiers: metrics (sklearn.metrics), plots, error analysis, the TF-IDF baseline
and the evaluation protocols. Uses model/ (and training/'s readers and splits), never the reverse."""
from .baseline import TfidfBaseline
from .evaluate import evaluate

__all__ = ["evaluate", "TfidfBaseline"]
