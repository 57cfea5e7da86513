"""Headlines alone (each article's title as the whole text) on the fast default's dev and test splits: the
4-layer student alone, the 12-layer model alone, and the shipped default, which reads texts of up to 64 tokens
with the 12-layer model, its logits moved onto the student's thresholds; and on dev the same with the topics'
logits left unmoved (the alternative the dev split turned down). Macro-F1 of predict's `label`, 5 topics.

    python docs/reports/second-model/titles.py ../shared/datasets/ant-multisource-v2.1 docs/reports/second-model/titles.json
"""
import json
import sys

import numpy as np

from eval.protocols import topic_parts
from model import TopicClassifier
from training.metrics import single_label_scores

data, out = sys.argv[1], sys.argv[2]
parts = topic_parts("model/default", data, "training/recipes/topics.yaml")[0]
default = TopicClassifier.from_pretrained("model/default")
student = TopicClassifier.from_pretrained("model/default")
student.settings = student.settings.alone()
teacher = TopicClassifier.from_pretrained("model/default/teacher", backend="onnx-int8")
unmoved = TopicClassifier.from_pretrained("model/default")
full = unmoved._second_offset


def topics_unmoved(reader):
    offset = full(reader)
    offset[[unmoved.labels.index(t) for t in unmoved.settings.topics]] = 0.0
    return offset


unmoved._second_offset = topics_unmoved
result = {"data": data}
for split in ("dev", "test"):
    part = parts[split]
    keep = [i for i, t in enumerate(part["title"]) if t and t.strip()]
    texts, gold = [part["title"][i] for i in keep], [part[i]["label"] for i in keep]
    arms = [("student", student), ("teacher", teacher), ("default", default)] + ([("default, topics unmoved", unmoved)] if split == "dev" else [])
    result[split] = {"titles": len(texts), "median_tokens": float(np.median([len(student.windows(t)[0]) for t in texts])),
                     **{name: round(single_label_scores(gold, [r["label"] for r in clf.predict(texts)])["macro_f1"], 4) for name, clf in arms}}
    print(split, result[split], flush=True)
json.dump(result, open(out, "w"), indent=1)
