"""Headlines read by three models at once: the mean of the 12-layer model's topic scores, a title reader's and
the 4-layer student's, each weight chosen on dev titles (a grid of eighths); macro-F1 of the 5-topic `label` on
the dev, test and JawharaFM titles of a title table. The two-model mean predict uses (title reader and 12-layer
model) is one point of the grid (student weight 0), so the table says what the student adds.

    python docs/reports/second-model/title_ensemble.py runs/titles runs/title-reader OUT.json
(runs/titles-noBB with runs/title-reader-noBB: BBC held out of the reader, its test titles BBC's.)
"""
import json
import sys

from sklearn.metrics import f1_score

from model import TopicClassifier
from model.scores import probabilities
from title_tables import read_title_tables  # this folder's, as the script runs from it

tables, reader_dir, out = sys.argv[1:4]
parts = read_title_tables(tables)

default = TopicClassifier.from_pretrained("model/default")
default.settings = default.settings.alone()
teacher = TopicClassifier.from_pretrained("model/default/teacher", backend="onnx-int8")
reader = TopicClassifier.from_pretrained(reader_dir)
reader.tfidf = None  # the reader alone, as predict's title mean reads it
topics = default.topics
assert teacher.topics == topics and sorted(reader.labels) == sorted(topics), (teacher.topics, reader.labels)
proba = {}
for split, (texts, _) in parts.items():
    nothing = [None] * len(texts)
    proba[split] = {
        "12-layer": teacher.topic_proba(teacher.predict_proba(texts, nothing)),
        "reader": probabilities(reader._logits(texts, nothing, 32)[0], False)[:, [reader.labels.index(t) for t in topics]],
        "student": default.topic_proba(default.predict_proba(texts, nothing))}
    print(split, "read", flush=True)


def macro_f1(split: str, weights: tuple[float, float]) -> float:
    arms = proba[split]
    p = weights[0] * arms["reader"] + weights[1] * arms["student"] + (1 - sum(weights)) * arms["12-layer"]
    return round(f1_score(parts[split][1], [topics[j] for j in p.argmax(1)], average="macro"), 4)


grid = [(r / 8, s / 8) for r in range(9) for s in range(9 - r)]
on_dev = {w: macro_f1("dev", w) for w in grid}
best = max(grid, key=lambda w: (on_dev[w], -w[1]))  # ties: the smaller student weight
pair = max([w for w in grid if w[1] == 0], key=lambda w: on_dev[w])
result = {"tables": tables, "reader": reader_dir, "chosen_on_dev": {"reader": best[0], "student": best[1]},
          "two_model_mean_on_dev": {"reader": pair[0]}, "rows": {}}
for split in parts:
    result["rows"][split] = {"titles": len(parts[split][1]), "12-layer": macro_f1(split, (0, 0)),
                             "reader alone": macro_f1(split, (1, 0)), "student alone": macro_f1(split, (0, 1)),
                             f"two-model mean (reader {pair[0]})": macro_f1(split, pair),
                             f"three-model mean (reader {best[0]}, student {best[1]})": macro_f1(split, best)}
    print(split, result["rows"][split], flush=True)
open(out, "w").write(json.dumps(result, indent=1) + "\n")
