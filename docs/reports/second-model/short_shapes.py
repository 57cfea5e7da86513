"""Short texts that are not headlines, on test sets only (nothing was chosen on them): the first 10, 20 and 30
words of each article's body alone (a one-line post, a lead sentence), on the default's ANT test split and
on JawharaFM (an outlet neither model saw). Arms: the shipped default as predict reads it, the default
without its title model (the 12-layer second model still reads these texts), and the 12-layer model alone
(model/default/teacher, onnx-int8). Macro-F1 of `label` over the 5 topics.

    python docs/reports/second-model/short_shapes.py ../shared/datasets/ant-multisource-v2.1 \
        ../shared/datasets/ant-jawharafm-v1.1 docs/reports/second-model/short-shapes.json
"""
import dataclasses
import json
import sys

import numpy as np
from sklearn.metrics import f1_score

from eval.protocols import topic_parts
from model import TopicClassifier
from training.corpus import read_corpus
from training.hygiene import LabelMapping

ant, jawhara, out = sys.argv[1:4]
parts = {"ant test": topic_parts("model/default", ant, "training/recipes/topics.yaml")[0]["test"],
         "jawharafm": LabelMapping.from_yaml("training/recipes/jawhara-topics.yaml").apply(read_corpus(jawhara))
         .filter(lambda r: r["text"].strip() != "")}
shipped = TopicClassifier.from_pretrained("model/default")
without = TopicClassifier.from_pretrained("model/default")
without.settings = dataclasses.replace(without.settings, title_model="", title_model_weight=0.0)
teacher = TopicClassifier.from_pretrained("model/default/teacher", backend="onnx-int8")
arms = {"default (shipped)": shipped, "default without its title model": without, "12-layer model": teacher}
result = {}
for name, part in parts.items():
    gold = list(part["label"])
    result[name] = {"texts": len(gold)}
    for words in (10, 20, 30):
        texts = [" ".join(body.split()[:words]) for body in part["text"]]
        row = {"median_tokens": float(np.median([len(shipped.windows(t)[0]) for t in texts])),
               "read as short (<= 64 tokens)": round(float(np.mean([len(shipped.windows(t)) == 1 and
                                                                    len(shipped.windows(t)[0]) <= 64 for t in texts])), 3)}
        for arm, clf in arms.items():
            row[arm] = round(f1_score(gold, [r["label"] for r in clf.predict(texts)], average="macro"), 4)
        result[name][f"first {words} words"] = row
        print(name, words, row, flush=True)
open(out, "w").write(json.dumps({"ant": ant, "jawharafm": jawhara, **result}, indent=1) + "\n")
