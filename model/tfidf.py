"""The baseline every report is measured against: TF-IDF character 2-5-grams + LinearSVC (scikit-learn).

Also a fast model of its own. It is saved without pickle: the vocabulary, idf weights and the classifier's
coefficients go to JSON + npz, and loading rebuilds the scikit-learn objects from them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.special import log_softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC

from .atomic import atomic_directory
from .errors import UserError
from .normalize import normalize

VECTORIZER = dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32)
FILES = ("baseline.json", "baseline.npz")


def texts_with_titles(texts, titles=None) -> list[str]:
    """Title and body, as the transformer reads them (the title alone carries much of the topic)."""
    titles = titles if titles is not None else [None] * len(texts)
    return [f"{title}\n{text}" if title else text for text, title in zip(texts, titles)]


def baseline_texts(dataset) -> list[str]:
    return texts_with_titles(dataset["text"], dataset["title"])


def fuse(logits: np.ndarray, scores: np.ndarray, fusion: dict, multi_label: bool) -> np.ndarray:
    """A transformer's logits blended with this model's decision scores (same label order), as fitted on dev by
    training (training/fusion.py): `weight` on the transformer, 1 - weight on the TF-IDF scores scaled by
    `temperature`. Single-label: a weighted sum of the two log-probabilities (its softmax is the blend's
    probability); multi-label: a weighted sum of the per-label logits (its sigmoid)."""
    w, t = float(fusion["weight"]), float(fusion["temperature"])
    if multi_label:
        return (w * logits + (1 - w) * t * scores).astype(np.float32)
    return (w * log_softmax(logits, axis=1) + (1 - w) * log_softmax(t * scores, axis=1)).astype(np.float32)


class TfidfBaseline:
    def __init__(self, C: float = 1.0, class_weight: str | None = None):
        self.C = C
        self.class_weight = class_weight  # "balanced" for a handful of examples without the label's frequency
        self.vectorizer = TfidfVectorizer(**VECTORIZER)
        self.labels: list[str] = []
        self.multi_label = False
        self.coef = self.intercept = None

    @staticmethod
    def _prepare(texts: Sequence[str]) -> list[str]:
        return [normalize(t) for t in texts]

    def fit(self, texts: Sequence[str], labels: Sequence) -> "TfidfBaseline":
        X = self.vectorizer.fit_transform(self._prepare(texts))
        self.multi_label = isinstance(labels[0], list)
        if self.multi_label:
            binarizer = MultiLabelBinarizer()
            Y = binarizer.fit_transform(labels)
            self.labels = [str(c) for c in binarizer.classes_]
            estimators = OneVsRestClassifier(LinearSVC(C=self.C, class_weight=self.class_weight)).fit(X, Y).estimators_
            self.coef = np.vstack([e.coef_ for e in estimators]).astype(np.float32)
            self.intercept = np.concatenate([e.intercept_ for e in estimators]).astype(np.float32)
        else:
            svm = LinearSVC(C=self.C, class_weight=self.class_weight).fit(X, list(labels))
            self.labels = [str(c) for c in svm.classes_]
            coef, intercept = svm.coef_, svm.intercept_
            if len(self.labels) == 2:  # sklearn keeps one row for two classes: spell out both
                coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
            self.coef, self.intercept = coef.astype(np.float32), intercept.astype(np.float32)
        return self

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        X = self.vectorizer.transform(self._prepare(texts))
        return np.asarray(X @ self.coef.T) + self.intercept

    def predict(self, texts: Sequence[str]) -> list:
        return self.decide(self.decision_function(texts))

    def decide(self, scores: np.ndarray) -> list:
        """The labels of decision_function's scores: above 0 (multi-label), or the highest."""
        if self.multi_label:
            return [[lab for lab, s in zip(self.labels, row) if s > 0] for row in scores]
        return [self.labels[i] for i in scores.argmax(1)]

    # -------------------------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        meta = {"kind": "tfidf-char-linearsvc", "C": self.C, "labels": self.labels,
                "multi_label": self.multi_label, "vectorizer": {k: v for k, v in VECTORIZER.items() if k != "dtype"},
                "vocabulary": {term: int(i) for term, i in self.vectorizer.vocabulary_.items()}}
        with atomic_directory(directory) as tmp:
            (tmp / FILES[0]).write_text(json.dumps(meta, ensure_ascii=False))
            np.savez_compressed(tmp / FILES[1], idf=self.vectorizer.idf_, coef=self.coef, intercept=self.intercept)

    @classmethod
    def load(cls, directory: str | Path) -> "TfidfBaseline":
        directory = Path(directory)
        try:
            meta = json.loads((directory / FILES[0]).read_text())
            arrays = np.load(directory / FILES[1], allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UserError(f"{directory}: not a saved baseline ({exc.__class__.__name__})") from None
        baseline = cls(meta["C"])
        baseline.labels, baseline.multi_label = meta["labels"], meta["multi_label"]
        baseline.vectorizer.vocabulary_ = meta["vocabulary"]
        baseline.vectorizer.idf_ = arrays["idf"]
        baseline.coef, baseline.intercept = arrays["coef"], arrays["intercept"]
        return baseline
