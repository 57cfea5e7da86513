"""The shipped default on the 12-layer model's ANT test split (which neither model trained on), with its second
model and without (the 4-layer student alone): macro-F1 of predict's `label` over the 5 topics on the split's
2,984 random-split articles, and of `labels` over politics / security / diplomacy on the 200 fixed annotated ids
(labels.jsonl), as docs/reports/fast/frontier.py scores them.

    python docs/reports/second-model/testsets.py ../shared/datasets/ant-multisource-v2.1 docs/reports/second-model/testsets.json
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

from model import TopicClassifier
from training.corpus import read_corpus
from training.hygiene import LabelMapping
from training.metrics import masked_multi_label_scores, single_label_scores
from training.partial_labels import first_copies, read_annotations, read_ids

data, out = sys.argv[1], Path(sys.argv[2])
recipes = Path("training/recipes")
psd_ids = set(read_ids(recipes / "psd-test-ids.txt"))
annotations = read_annotations(Path(data).parent / "ant-politics-security-diplomacy" / "labels.jsonl")
corpus = LabelMapping.from_yaml(recipes / "topics.yaml").apply(read_corpus(data))
test = first_copies(corpus, set(read_ids(recipes / "teacher-test-ids.txt")))
texts, titles, ids = list(test["text"]), list(test["title"]), list(test["id"])
topical = [n for n, i in enumerate(ids) if i not in psd_ids]
psd = [n for n, i in enumerate(ids) if i in psd_ids]
PSD = ["diplomacy", "politics", "security"]
rows = {}
for name, second in (("default", True), ("student alone", False)):
    clf = TopicClassifier.from_pretrained("model/default")
    if not second:
        clf.settings = clf.settings.alone()
    started = time.perf_counter()
    probs = clf.predict_proba(texts, titles)
    topics = single_label_scores([test[n]["label"] for n in topical],
                                 [d[0] for d in clf.decide(probs[topical], top_label=True)])["macro_f1"]
    gold = np.array([[annotations[ids[n]][lab] for lab in PSD] for n in psd])
    predicted = np.array([[lab in d for lab in PSD] for d in clf.decide(probs[psd])], dtype=int)
    rows[name] = {"topics_macro_f1": round(topics, 4), "seconds": round(time.perf_counter() - started, 1),
                  "psd_macro_f1": round(masked_multi_label_scores(gold, predicted, np.ones_like(gold), PSD)["macro_f1"], 4)}
    print(name, rows[name], flush=True)
out.write_text(json.dumps({"data": data, "articles": len(texts), "topical": len(topical), "psd": len(psd), "rows": rows}, indent=1))
