"""Would a late fusion with TF-IDF pay on politics / security / diplomacy? For a multi-label model trained on
the 200 fixed ids' split (split: ids): its logits for the three labels, TF-IDF char 2-5-grams + one-vs-rest
LinearSVC trained on the annotated articles of the model's train split, and their blend (model/tfidf.py fuse)
with weight, temperature and per-label thresholds fitted on the annotated articles of its dev split
(training/fusion.py). Scored on the 200 fixed ids (the model alone with its own dev thresholds).

    python docs/reports/fast/fusion_psd.py MODEL OUT.json
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import expit, logit
from sklearn.metrics import f1_score

from eval.protocols import _model_splits
from model import TopicClassifier
from model.tfidf import TfidfBaseline, baseline_texts, fuse
from training.fusion import dev_score, fit
from training.partial_labels import first_copies, read_ids

PSD = ["politics", "security", "diplomacy"]
root = Path(__file__).parents[3]
model_dir, out = sys.argv[1], Path(sys.argv[2])
started = time.time()
splits, config = _model_splits(model_dir)
classifier = TopicClassifier.from_pretrained(model_dir)
columns = [classifier.labels.index(label) for label in PSD]


def annotated(part):
    """The articles whose three labels are all known (annotated), and their 0/1 matrix."""
    part = part.filter(lambda r: set(PSD) <= set(r["known"]))
    return part, np.array([[int(label in row) for label in PSD] for row in part["label"]])


def model_logits(part):
    return logit(np.clip(classifier.predict_proba(list(part["text"]), list(part["title"]))[:, columns], 1e-6, 1 - 1e-6))


(train, train_gold), (dev, dev_gold) = annotated(splits["train"]), annotated(splits["dev"])
test = first_copies(splits["test"], set(read_ids(root / "training" / "recipes" / "psd-test-ids.txt")))
test, test_gold = annotated(test)
tfidf = TfidfBaseline().fit(baseline_texts(train), [[label for label in PSD if label in row] for row in train["label"]])
order = [tfidf.labels.index(label) for label in PSD]
tfidf_dev, tfidf_test = (tfidf.decision_function(baseline_texts(p))[:, order] for p in (dev, test))
model_dev, model_test = model_logits(dev), model_logits(test)
blend = fit(model_dev, tfidf_dev, dev_gold, True, None)
_, thresholds = dev_score(fuse(model_dev, tfidf_dev, blend, True), dev_gold, True)


def scores(predicted):
    per_label = f1_score(test_gold, predicted, average=None, zero_division=0)
    return {**{label: round(float(f), 4) for label, f in zip(PSD, per_label)}, "macro": round(float(per_label.mean()), 4)}


own = classifier.settings.threshold_vector(classifier.labels)[columns]
result = {"model": model_dir, "articles": {"train_annotated": len(train), "dev_annotated": len(dev), "test": len(test)},
          "blend_fitted_on_dev": {**{k: round(v, 4) if isinstance(v, float) else v for k, v in blend.items()},
                                  "thresholds": dict(zip(PSD, map(float, thresholds)))},
          "test_f1": {"model (own dev thresholds)": scores(expit(model_test) >= own),
                      "tfidf (margin > 0)": scores(tfidf_test > 0),
                      "blend": scores(expit(fuse(model_test, tfidf_test, blend, True)) >= thresholds)},
          "seconds": round(time.time() - started)}
out.write_text(json.dumps(result, indent=1) + "\n")
print(json.dumps(result, indent=1))
