"""Score a model on its own dev and test splits exactly as `predict` runs it (its backend, reading and
second model) and record the figures in its metrics.json ("shipped_reading"), from which its model card
states them; then rewrite the card. Multi-label: macro- and micro-F1 over the label entries the data decides
(sections and annotations; no teacher fills the others), as training scores them.

    python docs/reports/fast/record_reading.py model/default [CORPUS]
"""
import json
import sys
from pathlib import Path

import numpy as np

from eval.protocols import _model_splits
from model import TopicClassifier
from model.cli import rewrite_card
from training.metrics import masked_multi_label_scores
from training.partial_labels import label_matrices

model_dir = Path(sys.argv[1])
splits = _model_splits(model_dir, sys.argv[2] if len(sys.argv) > 2 else None)[0]
clf = TopicClassifier.from_pretrained(model_dir)
s = clf.settings
record = {"reading": f"{clf.backend}, {s.max_windows} window(s) of {s.max_length} tokens"
                     + (f", short texts (up to {s.second_model_tokens} tokens) and topic margins under {s.second_model_margin:g} read by {s.second_model}/"
                        if s.second_model else "")
                     + (f", their topics the mean with {s.title_model}/ (weight {s.title_model_weight:g})"
                        if s.title_model else ""),
          "scored": "macro- and micro-F1 of `labels` over the label entries the data decides"}
for name in ("dev", "test"):
    part = splits[name]
    gold, known = (np.array(m, dtype=int) for m in label_matrices(part["label"], part["known"], clf.labels))
    decided = clf.decide(clf.predict_proba(list(part["text"]), list(part["title"])))
    predicted = np.array([[label in row for label in clf.labels] for row in decided], dtype=int)
    scores = masked_multi_label_scores(gold, predicted, known, clf.labels)
    record[name] = {"macro_f1": round(scores["macro_f1"], 4), "micro_f1": round(scores["micro_f1"], 4), "articles": len(part)}
metrics_path = model_dir / "metrics.json"
metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
metrics["shipped_reading"] = record
metrics_path.write_text(json.dumps(metrics, ensure_ascii=False, indent=2))
rewrite_card(model_dir, clf)
print(json.dumps(record, indent=1))
