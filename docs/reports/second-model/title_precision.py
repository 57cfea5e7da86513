"""The headline mean with the 12-layer model read at fp32 ONNX instead of onnx-int8 (the shipped default's
backend): macro-F1 of the 5-topic `label` on a title table's dev, test and JawharaFM titles, the title model
alone (its blend removed) in the mean at weights 0.25, 0.5 and 0.75. Prints one line per backend and split.

    python docs/reports/second-model/title_precision.py runs/titles runs/title-reader
"""
import sys

from sklearn.metrics import f1_score

from model import TopicClassifier
from model.scores import probabilities
from title_tables import read_title_tables  # this folder's, as the script runs from it

tables, reader_dir = sys.argv[1:3]
parts = read_title_tables(tables)
reader = TopicClassifier.from_pretrained(reader_dir)
reader.tfidf = None
for backend in ("onnx-int8", "onnx"):
    teacher = TopicClassifier.from_pretrained("model/default/teacher", backend=backend)
    topics = teacher.topics
    for split, (texts, gold) in parts.items():
        nothing = [None] * len(texts)
        own = teacher.topic_proba(teacher.predict_proba(texts, nothing))
        theirs = probabilities(reader._logits(texts, nothing, 32)[0], False)[:, [reader.labels.index(t) for t in topics]]

        def macro_f1(p):
            return round(f1_score(gold, [topics[j] for j in p.argmax(1)], average="macro"), 4)

        print(backend, split, {"12-layer": macro_f1(own),
                               **{f"mean {w}": macro_f1(w * theirs + (1 - w) * own) for w in (0.25, 0.5, 0.75)}},
              flush=True)
