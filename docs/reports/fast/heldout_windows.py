"""Diagnostic, not a choice: does a held-out outlet's score depend on how much of each article the model reads?
The model's test split read as topics as the other scripts here read it (topic_split.py), at 1, 2 and 4
windows (mean of logits, title in every window). The shipped reading is chosen on dev (choose_reading.py);
these test figures only say where a held-out gap comes from.

    python docs/reports/fast/heldout_windows.py MODEL OUT.json
"""
import dataclasses
import json
import sys
from pathlib import Path

from topic_split import documented_topic_split, topic_gold
from training.metrics import single_label_scores

model_dir, out = sys.argv[1], Path(sys.argv[2])
parts, _, view = documented_topic_split(model_dir)
test, classifier = parts["test"], view.classifier
gold = topic_gold(view, test)
result = {"model": model_dir, "test_articles": len(test), "max_length": classifier.settings.max_length,
          "test_macro_f1_by_windows": {}}
for windows in (1, 2, 4):
    classifier.settings = dataclasses.replace(classifier.settings, max_windows=windows, aggregate="mean",
                                              title_in_every_window=True)
    probs = view.predict_proba(list(test["text"]), list(test["title"]))
    result["test_macro_f1_by_windows"][windows] = round(single_label_scores(gold, probs.argmax(1))["macro_f1"], 4)
out.write_text(json.dumps(result, indent=1) + "\n")
print(json.dumps(result, indent=1))
