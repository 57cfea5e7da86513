"""The blend step of `arabic-topics train` (training/fusion.py) applied to a model trained before that step
existed: the same TF-IDF baseline (same training articles), the same fit on dev, its test score. The model is
not changed; the result is written to blend.json beside its metrics.

    python docs/reports/recipe-check/blend.py runs/rc/jawhara-titles
"""
import json
import sys
from pathlib import Path

import numpy as np

from training.metrics import multi_label_scores, single_label_scores
from model import TopicClassifier
from model.tfidf import TfidfBaseline, baseline_texts, fuse
from training import fusion
from training.config import TrainConfig, read_config_file
from training.data import load_splits

model_dir = Path(sys.argv[1])
config = TrainConfig(**read_config_file(model_dir / "training_config.yaml"))
splits, _ = load_splits(config)
classifier = TopicClassifier.from_pretrained(model_dir)
labels, multi = classifier.labels, classifier.settings.multi_label
tfidf = TfidfBaseline().fit(baseline_texts(splits["train"]), list(splits["train"]["label"]))
columns = [tfidf.labels.index(lab) for lab in labels]


def gold_of(part):
    if multi:
        return np.array([[lab in set(row) for lab in labels] for row in part["label"]], dtype=int)
    return np.array([labels.index(g) if g in labels else -100 for g in part["label"]])


parts = {name: (classifier.logits(list(splits[name]["text"]), list(splits[name]["title"])),
                tfidf.decision_function(baseline_texts(splits[name]))[:, columns], gold_of(splits[name]))
         for name in ("dev", "test")}
logits, scores, gold = parts["dev"]
result = fusion.fit(logits, scores, gold, multi, None)
blend = {"weight": result["weight"], "temperature": result["temperature"]}
_, thresholds = fusion.dev_score(fuse(logits, scores, blend, multi), gold, multi)
logits_t, scores_t, gold_t = parts["test"]
fused_t = fuse(logits_t, scores_t, blend, multi)


def test_score(z, th):
    if multi:
        return multi_label_scores(gold_t, (1 / (1 + np.exp(-z)) >= th).astype(int))["macro_f1"]
    keep = gold_t != -100
    return single_label_scores(gold_t[keep], z.argmax(1)[keep])["macro_f1"]


alone_th = np.array([classifier.settings.thresholds.get(lab, 0.5) for lab in labels])
result.update({"test_alone": test_score(logits_t, alone_th), "test_blended": test_score(fused_t, thresholds),
               "test_default": test_score(fused_t, thresholds) if result["adopted"] else test_score(logits_t, alone_th)})
(model_dir / "blend.json").write_text(json.dumps(result, indent=2))
print(json.dumps(result))
