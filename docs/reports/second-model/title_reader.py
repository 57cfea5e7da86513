"""A title reader against the 12-layer model on headlines: macro-F1 of the 5-topic `label` on the shipped
default's dev and test titles and on JawharaFM's titles (an outlet no split holds; the 3,760 of
docs/reports/cross-corpus/jawhara.py --titles). Arms: the 12-layer model (`model/default/teacher`, read as predict
reads its label), the title reader alone (its TF-IDF blend removed), the title reader as saved (blended), and
the mean of the 12-layer model's and the title reader's topic probabilities at the weight chosen on dev titles.
A reader saved without a blend (training did not adopt one) reads the same alone and as saved.

    python docs/reports/second-model/title_reader.py runs/titles runs/title-reader \
        docs/reports/second-model/title-reader.json
(runs/titles and runs/title-reader: title_corpus.py's commands.)
"""
import json
import sys

import numpy as np
from sklearn.metrics import f1_score

from eval.protocols import TopicView
from model import TopicClassifier
from model.scores import probabilities
from model.tfidf import fuse, texts_with_titles
from title_tables import read_title_tables  # this folder's, as the script runs from it

tables, reader_dir, out = sys.argv[1:4]
parts = read_title_tables(tables)

teacher = TopicClassifier.from_pretrained("model/default/teacher", backend="onnx-int8")
view = TopicView(teacher, teacher.settings.topics + [teacher.settings.residual_topic], teacher.settings.residual_topic)
reader = TopicClassifier.from_pretrained(reader_dir)
assert reader.labels == view.labels, (reader.labels, view.labels)
labels = view.labels
proba = {}
tfidf, reader.tfidf = reader.tfidf, None  # the reader alone; as saved, its logits blended as predict blends them
settings = reader.settings
for split, (texts, gold) in parts.items():
    alone = reader._logits(texts, [None] * len(texts), 32)[0]
    blended = alone if tfidf is None else fuse(alone, tfidf.decision_function(texts_with_titles(texts)),
                                               settings.fusion, settings.multi_label)
    proba[split] = {"teacher": view.predict_proba(texts), "reader alone": probabilities(alone, settings.multi_label),
                    "reader as saved": probabilities(blended, settings.multi_label)}


def macro_f1(split: str, p: np.ndarray) -> float:
    return round(f1_score(parts[split][1], [labels[j] for j in p.argmax(1)], average="macro"), 4)


weights = [0.25, 0.5, 0.75]
on_dev = {w: macro_f1("dev", w * proba["dev"]["reader alone"] + (1 - w) * proba["dev"]["teacher"]) for w in weights}
chosen = max(weights, key=lambda w: on_dev[w])
result = {"reader": reader_dir, "ensemble_weight_on_reader": chosen, "ensemble_dev_by_weight": on_dev}
for split, arms in proba.items():
    arms[f"mean, weight {chosen} on the reader alone"] = chosen * arms["reader alone"] + (1 - chosen) * arms["teacher"]
    result[split] = {"titles": len(parts[split][1]), **{name: macro_f1(split, p) for name, p in arms.items()}}
    print(split, result[split], flush=True)
open(out, "w").write(json.dumps(result, indent=1) + "\n")
