"""Choose the fast model's reading on its dev split, as `evaluate --long-articles --apply` does for windows:
for each window length, the dev probabilities under the backend it ships with, per-label thresholds tuned on
them (the articles whose label is known), and the dev macro-F1 with those thresholds. The best length, its
thresholds and the backend are written into the model's topic_config.json, and the length and backend into its
training_config.yaml (`read_length`, `backend`), so the config states the reading the model ships. Test is
never read.

    python docs/reports/fast/choose_reading.py runs/fast onnx-int8 96,128 > docs/reports/fast/choose_reading.json
"""
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import yaml

from eval.protocols import _model_splits
from model import TopicClassifier
from model.classifier import TOPIC_CONFIG
from training.metrics import masked_multi_label_scores, tune_masked_thresholds
from training.partial_labels import label_matrices

model_dir, backend, lengths = Path(sys.argv[1]), sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
dev = _model_splits(model_dir)[0]["dev"]
clf = TopicClassifier.from_pretrained(model_dir, backend=backend)
gold, known = (np.array(m, dtype=int) for m in label_matrices(dev["label"], dev["known"], clf.labels))
trained_at = clf.settings.max_length
results = {}
for length in lengths:
    clf.settings = dataclasses.replace(clf.settings, max_length=length)
    probs = clf.predict_proba(list(dev["text"]), list(dev["title"]))
    thresholds = tune_masked_thresholds(gold, probs, known)
    scores = masked_multi_label_scores(gold, (probs >= thresholds).astype(int), known, clf.labels)
    results[length] = {"dev_macro_f1": scores["macro_f1"], "thresholds": dict(zip(clf.labels, map(float, thresholds)))}
best = max(results, key=lambda length: results[length]["dev_macro_f1"])
settings = json.loads((model_dir / TOPIC_CONFIG).read_text(encoding="utf-8"))
settings.update(max_length=best, thresholds=results[best]["thresholds"], backend=backend)
(model_dir / TOPIC_CONFIG).write_text(json.dumps(settings, ensure_ascii=False, indent=2))
recipe = yaml.safe_load((model_dir / "training_config.yaml").read_text(encoding="utf-8"))
recipe.update(read_length=best, backend=backend)
(model_dir / "training_config.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True),
                                                encoding="utf-8")
print(json.dumps({"model": str(model_dir), "backend": backend, "trained_at": trained_at, "dev_articles": len(dev),
                  "lengths": results, "chosen": best}, indent=1))
