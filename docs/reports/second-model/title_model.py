"""The shipped default on headlines, read exactly as predict reads them (its `label`), with its title model
(topic_config.json title_model) and without it: macro-F1 on the default's dev and test titles and on
JawharaFM's titles (an outlet no split holds), the tables of title_corpus.py. The title model was chosen and
its weight set on dev titles only (title_reader.py).

    python docs/reports/second-model/title_model.py runs/titles docs/reports/second-model/title-model.json
"""
import csv
import dataclasses
import json
import sys
import time

from sklearn.metrics import f1_score

from model import TopicClassifier

tables, out = sys.argv[1:3]
shipped = TopicClassifier.from_pretrained("model/default")
without = TopicClassifier.from_pretrained("model/default")
without.settings = dataclasses.replace(without.settings, title_model="", title_model_weight=0.0)  # the second model stays
result = {"backend": shipped.backend, "title_model_weight": shipped.settings.title_model_weight}
for split in ("dev", "test", "jawharafm"):
    with open(f"{tables}/{split}.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts, gold = [r["text"] for r in rows], [r["label"] for r in rows]
    result[split] = {"titles": len(rows)}
    for name, model in (("default without its title model", without), ("default (shipped)", shipped)):
        started = time.perf_counter()
        labels = [r["label"] for r in model.predict(texts)]
        result[split][name] = round(f1_score(gold, labels, average="macro"), 4)
        result[split][f"{name}: titles/s"] = round(len(texts) / (time.perf_counter() - started), 1)
    print(split, result[split], flush=True)
open(out, "w").write(json.dumps(result, indent=1) + "\n")
