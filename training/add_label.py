"""`arabic-topics add-label`: a new label from a handful of examples, without a corpus or a training run.

The model's head ends in one linear layer over a pooled representation of the article. A new label is one
more row of that layer: a logistic regression fitted on the representations of the user's examples
(positives and counter-examples). The other labels' rows and every encoder weight stay as they were, so
the existing labels predict exactly as before; the result is an ordinary checkpoint with one more entry in
id2label and a threshold for the new label. Measured on a label held out from our annotated set:
docs/multi-label.md ("Few-shot new labels").

    arabic-topics add-label --model runs/multi-label --label health --display-name صحة \
        --examples health.jsonl --out runs/multi-label-health
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from model import TopicClassifier, UserError, delta
from model.inputs import input_error

from .partial_labels import jsonl_records

MIN_EACH = 2


def fit_label(features: np.ndarray, positive: np.ndarray, C: float = 1.0) -> tuple[np.ndarray, float]:
    """(weights, bias) of a logistic regression on head features: the new label's row of the head.
    Balanced class weights, since a user's handful of examples rarely has the label's true frequency."""
    positive = np.asarray(positive, dtype=int)
    if min(positive.sum(), len(positive) - positive.sum()) < MIN_EACH:
        raise UserError(f"a new label needs at least {MIN_EACH} examples and {MIN_EACH} counter-examples "
                        f"(got {positive.sum()} and {len(positive) - positive.sum()})")
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(features, positive)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def add_label(classifier: TopicClassifier, label: str, weights: np.ndarray, bias: float,
              display_name: str | None = None, threshold: float = 0.5) -> TopicClassifier:
    """Append `label` to the classifier's head (in place) with the given row; returns the classifier."""
    if not classifier.settings.multi_label:
        raise UserError("labels can be added to multi-label models only: a single-label model's softmax "
                        "ties every label to the others, so it would have to be retrained")
    if label in classifier.labels:
        raise UserError(f"the model already has a label {label!r}")
    layer = classifier.head_layer()
    grown = torch.nn.Linear(layer.in_features, layer.out_features + 1)
    with torch.no_grad():
        grown.weight.copy_(torch.cat([layer.weight, torch.from_numpy(weights)[None]]))
        grown.bias.copy_(torch.cat([layer.bias, torch.tensor([bias])]))
    head = classifier.model.classifier
    if hasattr(head, "out_proj"):
        head.out_proj = grown
    else:
        classifier.model.classifier = grown
    config = classifier.model.config
    classifier.labels.append(label)
    config.id2label = dict(enumerate(classifier.labels))
    config.label2id = {name: i for i, name in enumerate(classifier.labels)}
    config.num_labels = len(classifier.labels)
    classifier.settings.thresholds[label] = threshold
    if display_name:
        classifier.settings.display_names[label] = display_name
    # the second and title models have no row for the new label: the grown model reads every text itself
    classifier.settings = classifier.settings.alone()
    return classifier


def read_examples(path: str | Path) -> tuple[list[str], list[str | None], np.ndarray]:
    """JSONL: {"text": ..., "title": optional, "label": 1 for an example of the label, 0 for a counter-example}."""
    texts, titles, positive = [], [], []
    for n, record in jsonl_records(path, "examples"):
        if record.get("label") not in (0, 1):
            raise UserError(f"{path}:{n}: each line needs \"text\" and \"label\" 1 (example) or 0 (counter-example)")
        if (problem := input_error(record.get("text"))) is not None:
            raise UserError(f"{path}:{n}: {problem}")
        texts.append(record["text"])
        titles.append(record.get("title") if isinstance(record.get("title"), str) else None)
        positive.append(record["label"])
    return texts, titles, np.asarray(positive, dtype=int)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="arabic-topics add-label",
                                     description="Add a label to a multi-label model from a handful of examples.")
    parser.add_argument("--model", required=True, help="multi-label model directory (full or light delta)")
    parser.add_argument("--label", required=True, help="the new label's key, e.g. health")
    parser.add_argument("--display-name", help="its display name, e.g. صحة")
    parser.add_argument("--examples", required=True, help="JSONL of examples (label 1) and counter-examples (0)")
    parser.add_argument("--out", required=True, help="new model directory (written atomically)")
    args = parser.parse_args(argv)

    texts, titles, positive = read_examples(args.examples)
    source = Path(args.model)
    classifier = TopicClassifier.from_pretrained(source, backend="fp32")
    weights, bias = fit_label(classifier.head_features(texts, titles), positive)
    add_label(classifier, args.label, weights, bias, args.display_name)
    settings_json = json.dumps(classifier.settings.to_dict(), ensure_ascii=False, indent=2)
    if delta.is_delta(source):  # keep a light model light: the grown head is one more changed tensor
        base = json.loads((source / delta.DELTA_MANIFEST).read_text())["base"]
        delta.save_delta(classifier.model, settings_json, base, Path(args.out))
    else:
        classifier.save_pretrained(args.out)
    fitted = classifier.predict_proba(texts, titles)[:, -1] >= 0.5
    print(f"added {args.label!r} to {source} -> {args.out}: fitted on {positive.sum()} examples and "
          f"{len(positive) - positive.sum()} counter-examples ({(fitted == positive).mean():.0%} of them "
          f"classified as given)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
