"""The second model's margin, chosen on the fast default's dev split (never its test split): the 4-layer
student's topic scores and the 12-layer model's (model/default/teacher, onnx-int8, 1 and 2 windows) for every
dev article, then for each margin the share of articles whose two best student topic scores lie closer than
it (those the 12-layer model reads instead) and the macro-F1 of predict's `label` over the 5 topics.

    python docs/reports/second-model/margins.py ../shared/datasets/ant-multisource-v2.1 docs/reports/second-model/margins.json
"""
import dataclasses
import json
import sys

import numpy as np

from eval.protocols import topic_parts
from model import TopicClassifier
from training.metrics import single_label_scores

data, out = sys.argv[1], sys.argv[2]
dev = topic_parts("model/default", data, "training/recipes/topics.yaml")[0]["dev"]
texts, titles, gold = list(dev["text"]), list(dev["title"]), list(dev["label"])
student = TopicClassifier.from_pretrained("model/default")
student.settings = student.settings.alone()
scores = {"student": student.topic_proba(student.predict_proba(texts, titles))}
for windows in (1, 2):
    teacher = TopicClassifier.from_pretrained("model/default/teacher", backend="onnx-int8")
    teacher.settings = dataclasses.replace(teacher.settings, max_windows=windows)
    scores[f"teacher, {windows} window(s)"] = teacher.topic_proba(teacher.predict_proba(texts, titles))
topics = student.topics


def f1(rows):
    return round(single_label_scores(gold, [topics[i] for i in rows.argmax(1)])["macro_f1"], 4)


ranked = np.sort(scores["student"], axis=1)
gap = ranked[:, -1] - ranked[:, -2]
result = {"data": data, "split": "dev", "articles": len(gold), **{name: f1(rows) for name, rows in scores.items()}, "margins": []}
for margin in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9):
    routed = gap < margin
    row = {"margin": margin, "routed": round(float(routed.mean()), 4)}
    for name in ("teacher, 1 window(s)", "teacher, 2 window(s)"):
        row[name] = f1(np.where(routed[:, None], scores[name], scores["student"]))
    result["margins"].append(row)
    print(json.dumps(row), flush=True)
json.dump(result, open(out, "w"), indent=1)
