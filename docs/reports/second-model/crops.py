"""Short texts on the fast default's dev split (never its test split): the 4-layer student (model/default
without its short-text reading) against the 12-layer model (model/default/teacher, onnx-int8) on crops of each
dev article, the title alone and the first 10, 20, 30 and 45 words of title and body, each read whole;
macro-F1 of predict's `label` over the 5 topics (training/recipes/topics.yaml). This chose the short-text
reading: the 12-layer model reads every crop better.

    python docs/reports/second-model/crops.py ../shared/datasets/ant-multisource-v2.1 docs/reports/second-model/crops.json
"""
import json
import sys

import numpy as np

from eval.protocols import topic_parts
from model import TopicClassifier
from training.metrics import single_label_scores

data, out = sys.argv[1], sys.argv[2]
dev = topic_parts("model/default", data, "training/recipes/topics.yaml")[0]["dev"]
student = TopicClassifier.from_pretrained("model/default")
student.settings = student.settings.alone()
teacher = TopicClassifier.from_pretrained("model/default/teacher", backend="onnx-int8")
gold = list(dev["label"])
rows = {}
for words in (0, 10, 20, 30, 45):
    texts = []
    for title, body in zip(dev["title"], dev["text"]):
        head = (title or "").split()
        texts.append(" ".join((head + body.split())[: words or len(head) or 1]))
    tokens = float(np.median([len(student.windows(t)[0]) for t in texts]))
    rows[words] = {"median_tokens": tokens, **{name: round(single_label_scores(gold, [r["label"] for r in clf.predict(texts)])["macro_f1"], 4)
                                              for name, clf in (("student", student), ("teacher", teacher))}}
    print(words, rows[words], flush=True)
json.dump({"data": data, "split": "dev", "articles": len(gold), "body_words": rows}, open(out, "w"), indent=1)
