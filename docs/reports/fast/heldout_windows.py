"""Diagnostic, not a choice: does a held-out outlet's score depend on how much of each article the model reads?
The model's test split read as topics (TopicView, residual politics; `evaluate --as-topics` without
--leave-out) at 1, 2 and 4 windows (mean of logits, title in every window). The shipped reading is chosen on
dev (choose_reading.py); these test figures only say where a held-out gap comes from.

    python docs/reports/fast/heldout_windows.py MODEL OUT.json
"""
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from eval.protocols import TopicView, topic_parts
from model import TopicClassifier
from training.hygiene import LabelMapping
from training.metrics import single_label_scores

topics = Path(__file__).parents[3] / "training" / "recipes" / "topics.yaml"
model_dir, out = sys.argv[1], Path(sys.argv[2])
test = topic_parts(model_dir, None, topics)[0]["test"]
classifier = TopicClassifier.from_pretrained(model_dir)
view = TopicView(classifier, LabelMapping.from_yaml(topics).targets, "politics")
gold = np.array([view.labels.index(label) for label in test["label"]])
result = {"model": model_dir, "test_articles": len(test), "max_length": classifier.settings.max_length,
          "test_macro_f1_by_windows": {}}
for windows in (1, 2, 4):
    classifier.settings = dataclasses.replace(classifier.settings, max_windows=windows, aggregate="mean",
                                              title_in_every_window=True)
    probs = view.predict_proba(list(test["text"]), list(test["title"]))
    result["test_macro_f1_by_windows"][windows] = round(single_label_scores(gold, probs.argmax(1))["macro_f1"], 4)
out.write_text(json.dumps(result, indent=1) + "\n")
print(json.dumps(result, indent=1))
