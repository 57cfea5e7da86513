"""How should a multi-label model's outputs be read as one topic? Two readings of the same probabilities, the
choice made on dev:

- residual (TopicView, `evaluate --as-topics`): each topical label keeps its probability, politics scores
  1 - the highest of them, the top one wins. A topic needs p > 0.5 to beat politics;
- thresholds (what `predict` decides): the topical label whose probability is furthest above its own dev-tuned
  threshold (p / threshold), politics when none reaches its threshold.

On the model's own split, as fusion_check.py reads it (the 200 fixed annotated ids left out; a held-out outlet
scored whole). Test is scored, never used to choose.

    python docs/reports/fast/topic_reading.py MODEL OUT.json
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from topic_split import documented_topic_split, topic_gold
from training.metrics import single_label_scores

model_dir, out = sys.argv[1], Path(sys.argv[2])
started = time.time()
parts, config, view = documented_topic_split(model_dir)
classifier = view.classifier
topical = [label for label in view.labels if label != view.residual]
thresholds = classifier.settings.threshold_vector(topical)
politics = view.labels.index(view.residual)


def readings(part):
    probs = classifier.predict_proba(list(part["text"]), list(part["title"]))[:, view.columns]
    residual = np.insert(probs, politics, 1 - probs.max(1), axis=1).argmax(1)
    ratio = probs / thresholds
    by_threshold = np.where(ratio.max(1) >= 1, np.array([view.labels.index(t) for t in topical])[ratio.argmax(1)],
                            politics)
    gold = topic_gold(view, part)
    return {name: {"macro_f1": round(single_label_scores(gold, pred)["macro_f1"], 4),
                   "per_label_f1": dict(zip(view.labels, np.round(f1_score(gold, pred, labels=range(len(view.labels)),
                                                                             average=None, zero_division=0), 4).tolist()))}
            for name, pred in (("residual", residual), ("thresholds", by_threshold))}


dev, test = readings(parts["dev"]), readings(parts["test"])
chosen = max(dev, key=lambda name: dev[name]["macro_f1"])
result = {"model": model_dir, "split": config.split, "test_sources": config.test_sources,
          "thresholds": dict(zip(topical, map(float, thresholds))),
          "articles": {"dev": len(parts["dev"]), "test": len(parts["test"])},
          "dev": dev, "chosen_on_dev": chosen, "test": test, "seconds": round(time.time() - started)}
out.write_text(json.dumps(result, indent=1) + "\n")
print(json.dumps(result, indent=1))
