"""How many windows the 12-layer model should read of the articles the default hands it, and at which margin:
for every article of the fast default's dev split, of the 12-layer model's ANT test split (its 2,984
random-split articles) and of JawharaFM (a corpus neither model saw), the student's topic scores and the
12-layer model's own (onnx-int8) reading 1 window and its 2, with the compute each reading costs (layer-tokens:
layers x tokens of every window read, the student's 4 on every article and the 12-layer model's 12 on those
handed over). For each margin and number of windows: the share handed over, the cost against the shipped
reading (margin 0.5, 2 windows) and the macro-F1 of `label` over the 5 topics, handed-over articles taking the
12-layer model's own topic scores as predict does. The choice is made on dev among readings that cost no more
than the shipped one; the test sets are only reported.

    python docs/reports/second-model/handover_windows.py ANT_CORPUS JAWHARA_CORPUS OUT.json [CACHE_DIR]
"""
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from article_sets import article_sets, topic_f1, topic_scores  # this folder's, as the script runs from it
from model import TopicClassifier

ant, jawhara, out = sys.argv[1:4]
cache = Path(sys.argv[4]) if len(sys.argv) > 4 else None
sets = article_sets(ant, jawhara)
SHIPPED = (0.5, 2)
MARGINS = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)

default = TopicClassifier.from_pretrained("model/default")
teacher = TopicClassifier.from_pretrained("model/default/teacher", backend="onnx-int8")
student_settings = default.settings.alone()
readers = {"student": (default, student_settings, 4),
           "12-layer, 1 window": (teacher, dataclasses.replace(teacher.settings, max_windows=1), 12),
           "12-layer, 2 windows": (teacher, teacher.settings, 12)}
assert teacher.settings.max_windows == 2
scores, costs = {}, {}
for name, part in sets.items():
    texts, titles = list(part["text"]), list(part["title"])
    for reader, (clf, settings, layers) in readers.items():
        clf.settings = settings
        costs[name, reader] = np.array([layers * sum(map(len, clf.windows(t, h))) for t, h in zip(texts, titles)])
        file = cache / f"{name.split(' (')[0].replace(' ', '-')}-{reader.replace(' ', '-').replace(',', '')}.npy" \
            if cache else None
        scores[name, reader] = topic_scores(clf, part, file, f"{name} {reader}")
topics = default.topics


def f1(part, rows) -> float:
    return topic_f1(part, rows, topics)


result = {"ant": ant, "jawhara": jawhara, "articles": {n: len(p) for n, p in sets.items()},
          "shipped": {"margin": SHIPPED[0], "windows": SHIPPED[1]}, "sets": {}}
for name, part in sets.items():
    student = scores[name, "student"]
    ranked = np.sort(student, axis=1)
    gap = ranked[:, -1] - ranked[:, -2]
    cost = lambda margin, windows: float((costs[name, "student"] + np.where(  # noqa: E731
        gap < margin, costs[name, f"12-layer, {windows} window{'s' if windows > 1 else ''}"], 0)).sum())
    shipped_cost = cost(*SHIPPED)
    rows = {"student alone": f1(part, student), "readings": []}
    for windows in (1, 2):
        own = scores[name, f"12-layer, {windows} window{'s' if windows > 1 else ''}"]
        rows[f"12-layer alone, {windows} window(s)"] = f1(part, own)
        for margin in MARGINS:
            routed = (gap < margin)[:, None]
            rows["readings"].append({"windows": windows, "margin": margin,
                                     "handed_over": round(float(routed.mean()), 4),
                                     "cost_vs_shipped": round(cost(margin, windows) / shipped_cost, 3),
                                     "macro_f1": f1(part, np.where(routed, own, student))})
    result["sets"][name] = rows
    print(name, json.dumps(rows), flush=True)
dev_rows = result["sets"]["ANT dev (chosen here)"]["readings"]
affordable = [r for r in dev_rows if r["cost_vs_shipped"] <= 1.0]
best = max(affordable, key=lambda r: (r["macro_f1"], -r["cost_vs_shipped"]))
result["chosen_on_dev"] = {"windows": best["windows"], "margin": best["margin"],
                           "rule": "best dev macro-F1 among readings costing no more than the shipped one"}
print("chosen on dev:", result["chosen_on_dev"])
Path(out).write_text(json.dumps(result, indent=1) + "\n")
