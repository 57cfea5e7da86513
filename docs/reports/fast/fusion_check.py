"""Would a late fusion with the TF-IDF baseline pay for a multi-label model read as a 5-topic classifier?

On the model's own split (the 200 fixed annotated ids left out; a held-out outlet's articles all kept): the
model's topic probabilities (TopicView, residual politics), TF-IDF char 2-5-grams + LinearSVC trained on the
model's train split with the topical labels, and their blend (model/tfidf.py fuse) with weight and
temperature fitted on dev by training/fusion.py. Test is scored, never used to choose; the JSON also lists
test at a few fixed weights for the record.

    python docs/reports/fast/fusion_check.py MODEL OUT.json [CORPUS]
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

from model.tfidf import TfidfBaseline, baseline_texts, fuse
from topic_split import documented_topic_split, topic_gold
from training.fusion import fit
from training.metrics import single_label_scores

model_dir, out = sys.argv[1], Path(sys.argv[2])
started = time.time()
parts, config, view = documented_topic_split(model_dir, sys.argv[3] if len(sys.argv) > 3 else None)
train, dev, test = parts["train"], parts["dev"], parts["test"]


def log_probs(part):
    return np.log(np.clip(view.predict_proba(list(part["text"]), list(part["title"])), 1e-6, 1))


model_dev, model_test = log_probs(dev), log_probs(test)
tfidf = TfidfBaseline().fit(baseline_texts(train), list(train["label"]))
assert tfidf.labels == view.labels
tfidf_dev, tfidf_test = tfidf.decision_function(baseline_texts(dev)), tfidf.decision_function(baseline_texts(test))
blend = fit(model_dev, tfidf_dev, topic_gold(view, dev), False, None)


def macro(scores):
    return round(single_label_scores(topic_gold(view, test), scores.argmax(1))["macro_f1"], 4)


result = {"model": model_dir, "split": config.split, "test_sources": config.test_sources,
          "articles": {"train": len(train), "dev": len(dev), "test": len(test)},
          "blend_fitted_on_dev": {k: round(v, 4) if isinstance(v, float) else v for k, v in blend.items()},
          "test_macro_f1": {"model": macro(model_test), "tfidf": macro(tfidf_test),
                            "blend": macro(fuse(model_test, tfidf_test, blend, False))},
          "test_macro_f1_at_fixed_weights": {str(w): macro(fuse(model_test, tfidf_test,
                                                                {"weight": w, "temperature": blend["temperature"]}, False))
                                             for w in (0.3, 0.5, 0.7, 0.9)},
          "seconds": round(time.time() - started)}
out.write_text(json.dumps(result, indent=1) + "\n")
print(json.dumps(result, indent=1))
