"""The speed / accuracy frontier of the fast default's candidates, on the teacher's ANT test split.

    python docs/reports/fast/frontier.py ../shared/datasets/ant-multisource-v2.1 model/default docs/reports/fast/frontier.json

A row already in OUT for the same model, reading and backend is kept, not measured again (the teacher's rows
do not change when the student does; 5 of the 9 minutes).

Each candidate is a model (the 12-layer teacher, model/default/teacher, or the 4-layer student: model/default,
with the thresholds chosen on dev for its shipped reading), a reading (tokens per window, windows per article)
and a backend. For each: docs/s over the whole test split (batched
predict_proba after a warm-up, every other process idle), macro-F1 of the test split's random part read as
5 topics (training/recipes/topics.yaml: predict's `label`, the best of the model's topics with residual politics), and macro-F1 over
politics / security / diplomacy on the 200 fixed annotated ids (labels.jsonl).
"""
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from training.metrics import masked_multi_label_scores, single_label_scores
from model import TopicClassifier
from training.corpus import read_corpus
from training.hygiene import LabelMapping
from training.partial_labels import first_copies, read_annotations, read_ids

data, student, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
root = Path(__file__).parents[3]
recipes = root / "training" / "recipes"
teacher = root / "model" / "default" / "teacher"
test_ids = read_ids(recipes / "teacher-test-ids.txt")
psd_ids = set(read_ids(recipes / "psd-test-ids.txt"))
annotations = read_annotations(Path(data).parent / "ant-politics-security-diplomacy" / "labels.jsonl")
corpus = LabelMapping.from_yaml(recipes / "topics.yaml").apply(read_corpus(data))
# the first copy of each id, as the split keeps it (duplicates were removed before splitting)
test = first_copies(corpus, set(test_ids))
texts, titles, ids = list(test["text"]), list(test["title"]), list(test["id"])
topical = [n for n, i in enumerate(ids) if i not in psd_ids]
psd = [n for n, i in enumerate(ids) if i in psd_ids]
PSD = ["diplomacy", "politics", "security"]

candidates = [(teacher, 128, 2, "fp32"), (teacher, 128, 1, "fp32"), (teacher, 128, 2, "onnx-int8")]
candidates += [(Path(student), length, 1, backend) for length in (128, 120, 112, 96, 64)
               for backend in ("fp32", "bf16", "onnx-int8")]


def shown(model_dir: Path) -> str:
    return str(model_dir.relative_to(root) if model_dir.is_absolute() else model_dir)


measured = {(r["model"], r["max_length"], r["max_windows"], r["backend"]): r
            for r in (json.loads(out.read_text())["rows"] if out.exists() else [])}
rows = []
for model_dir, length, windows, backend in candidates:
    if (shown(model_dir), length, windows, backend) in measured:
        rows.append(measured[shown(model_dir), length, windows, backend])
        continue
    classifier = TopicClassifier.from_pretrained(model_dir, backend=backend)
    # the reading of the candidate; a multi-label model's thresholds stay those of its directory
    classifier.settings = dataclasses.replace(classifier.settings, max_length=length, max_windows=windows)
    classifier.predict_proba(texts[:16], titles[:16])  # warm-up
    started = time.perf_counter()
    probs = classifier.predict_proba(texts, titles)
    seconds = time.perf_counter() - started
    # predict's `label`: the best of the model's topics (residual politics), as TopicView reads it
    topics = single_label_scores([test[n]["label"] for n in topical],
                                 [d[0] for d in classifier.decide(probs[topical], top_label=True)])["macro_f1"]
    decided = classifier.decide(probs[psd])
    gold = np.array([[annotations[ids[n]][lab] for lab in PSD] for n in psd])
    predicted = np.array([[lab in d for lab in PSD] for d in decided], dtype=int)
    psd_f1 = masked_multi_label_scores(gold, predicted, np.ones_like(gold), PSD)["macro_f1"]
    layers = json.loads((model_dir / "config.json").read_text())["num_hidden_layers"]
    row = {"model": shown(model_dir), "layers": layers,
           "max_length": length, "max_windows": windows, "backend": backend, "docs": len(texts),
           "docs_per_s": len(texts) / seconds, "topics_macro_f1": topics, "psd_macro_f1": psd_f1}
    rows.append(row)
    print(json.dumps(row), flush=True)
    del classifier
out.write_text(json.dumps({"data": data, "rows": rows}, indent=2))
