"""Politics / security / diplomacy macro-F1 on the 200 fixed annotated test ids for each model given, and for
the mean of their margins (logit of the probability minus the logit of the model's own dev threshold; a label
is chosen when the mean is >= 0). MODEL[:WINDOWS] reads that many windows instead of the model's own setting.

    python docs/reports/multi-label/psd200.py ../shared/datasets/ant-multisource-v2.1 runs/psd1200-ft16 \\
        runs/psd1200-ft16:2 model/default/teacher
"""
import dataclasses
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from model import TopicClassifier
from training.corpus import read_corpus
from training.partial_labels import first_copies, read_annotations, read_ids

PSD = ["politics", "security", "diplomacy"]
data, models = sys.argv[1], sys.argv[2:]
root = Path(__file__).parents[3]
annotations = read_annotations(Path(data).parent / "ant-politics-security-diplomacy" / "labels.jsonl")
test = first_copies(read_corpus(data), set(read_ids(root / "training" / "recipes" / "psd-test-ids.txt")))
gold = np.array([[annotations[i][label] for label in PSD] for i in test["id"]])


def logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def report(name, margins):
    per_label = f1_score(gold, (margins >= 0).astype(int), average=None, zero_division=0)
    print(f"{name:45s} " + " ".join(f"{lab} {f:.3f}" for lab, f in zip(PSD, per_label))
          + f"  macro {per_label.mean():.4f}", flush=True)


all_margins = []
for spec in models:
    path, *windows = spec.split(":")
    classifier = TopicClassifier.from_pretrained(path, backend="fp32")
    if windows:
        classifier.settings = dataclasses.replace(classifier.settings, max_windows=int(windows[0]))
    columns = [classifier.labels.index(label) for label in PSD]
    probs = classifier.predict_proba(list(test["text"]), list(test["title"]))[:, columns]
    margins = logit(probs) - logit(classifier.settings.threshold_vector(classifier.labels)[columns])
    all_margins.append(margins)
    report(spec, margins)
if len(all_margins) > 1:
    report("mean of " + ", ".join(models), np.mean(all_margins, axis=0))
