"""How many articles the default hands to the 12-layer model, and how it uses what that model says: for every
article of the fast default's dev split, of the 12-layer model's ANT test split (its 2,984 random-split
articles) and of JawharaFM (a corpus neither model saw), the student's topic scores and the 12-layer model's as
the default reads it (onnx-int8, its 2 windows, logits moved onto the student's thresholds: `moved`) and as it
reads itself (`own`). Then for each margin
the share of articles handed over and the macro-F1 of `label` over the 5 topics, when the handed-over articles
take the 12-layer model's scores (`replace`, as predict does) or the mean of the two models' (`mean`). The
margin and the rule are chosen on dev; the test sets are only reported.

    python docs/reports/second-model/handover.py ANT_CORPUS JAWHARA_CORPUS OUT.json [CACHE_DIR]
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

default = TopicClassifier.from_pretrained("model/default")
teacher = TopicClassifier.from_pretrained("model/default/teacher", backend="onnx-int8")
readers = {"student": (default, default.settings.alone()),
           # a margin above any gap between two scores in [0, 1]: every article goes to the 12-layer model
           "12-layer": (default, dataclasses.replace(default.settings, second_model_margin=1.5)),
           "12-layer own": (teacher, teacher.settings)}
scores = {}
for name, part in sets.items():
    for reader, (clf, settings) in readers.items():
        file = cache / f"{name.split(' (')[0].replace(' ', '-')}-{reader.replace(' ', '-')}.npy" if cache else None
        clf.settings = settings
        scores[name, reader] = topic_scores(clf, part, file, f"{name} {reader}")
topics = default.topics


def f1(part, rows) -> float:
    return topic_f1(part, rows, topics)


result = {"ant": ant, "jawhara": jawhara, "articles": {n: len(p) for n, p in sets.items()}, "sets": {}}
for name, part in sets.items():
    student, moved, own = scores[name, "student"], scores[name, "12-layer"], scores[name, "12-layer own"]
    ranked = np.sort(student, axis=1)
    gap = ranked[:, -1] - ranked[:, -2]
    rows = {"student alone": f1(part, student), "12-layer alone, moved": f1(part, moved),
            "12-layer alone, own": f1(part, own), "mean of student and 12-layer own, every article":
            f1(part, (student + own) / 2), "margins": []}
    for margin in (0.3, 0.5, 0.7, 0.9, 1.01):
        routed = (gap < margin)[:, None]
        row = {"margin": margin, "handed_over": round(float(routed.mean()), 4)}
        for arm, teacher_scores in (("moved", moved), ("own", own)):
            row[f"replace, {arm}"] = f1(part, np.where(routed, teacher_scores, student))
            row[f"mean, {arm}"] = f1(part, np.where(routed, (student + teacher_scores) / 2, student))
        rows["margins"].append(row)
    result["sets"][name] = rows
    print(name, json.dumps(rows), flush=True)
Path(out).write_text(json.dumps(result, indent=1) + "\n")
