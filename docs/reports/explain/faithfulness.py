"""Faithfulness of TopicClassifier.explain on ANT test articles the shipped model never trained on.

    python docs/reports/explain/faithfulness.py ../shared/datasets/ant-multisource-v2.1 60 docs/reports/explain/faithfulness.json

For each article (the first N of each outlet in the shipped model's test split, in its order, with at least 4
sentences in the part the model reads: explain scores those only),
with L its most probable label and p its probability:
- deletion, top-1 vs random: p minus p without the top-1 sentence for L, against p minus p without one random
  sentence (seeded). The top-1 sentence is chosen by this very drop, so it cannot lose; it can tie (the random
  pick is the top one), and the table says how often it is strictly larger.
- deletion, top-3 together vs 3 random together: not guaranteed by construction (each sentence was scored
  alone; removing three at once can interact).
- sufficiency: p for the title and the top-1 sentence alone, against the title and one random sentence alone.
"""
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from model import TopicClassifier, default_model_dir
from training.corpus import read_corpus
from training.partial_labels import read_ids

data, n, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
model_dir = default_model_dir()
clf = TopicClassifier.from_pretrained(model_dir)
ids = read_ids(model_dir / "test_ids.txt")
corpus = read_corpus(data)
first = {}
for i, record_id in enumerate(corpus["id"]):
    first.setdefault(record_id, i)
rng = random.Random(0)
rows, started = [], time.perf_counter()
taken: dict[str, int] = {}
for record_id in ids:
    article = corpus[first[record_id]]
    if taken.get(article["source"], 0) == n:
        continue
    text, title = article["text"], article["title"]
    probs = clf.predict_proba([text], [title])[0]
    label = clf.labels[int(probs.argmax())]
    result = clf.explain(text, title, labels=[label], top_n=40)
    items = result["explanations"][label]
    if len(items) < 4:
        continue
    column = clf.labels.index(label)
    p = float(probs[column])
    random_one = rng.choice(items)
    top3, random3 = items[:3], rng.sample(items, 3)

    def without(chosen):
        kept, position = [], 0
        for item in sorted(chosen, key=lambda x: x["start"]):
            kept.append(text[position:item["start"]])
            position = item["end"]
        return " ".join(kept + [text[position:]])

    variants = [without(top3), without(random3), items[0]["sentence"], random_one["sentence"]]
    v = clf.predict_proba(variants, [title] * 4)[:, column]
    taken[article["source"]] = taken.get(article["source"], 0) + 1
    rows.append({"id": record_id, "source": article["source"], "label": label, "p": p, "sentences": len(items),
                 "drop_top1": items[0]["effect"], "drop_random1": random_one["effect"],
                 "drop_top3": p - float(v[0]), "drop_random3": p - float(v[1]),
                 "alone_top1": float(v[2]), "alone_random1": float(v[3])})


def summary(a, b, source=None):
    chosen = [r for r in rows if source in (None, r["source"])]
    a, b = np.array([r[a] for r in chosen]), np.array([r[b] for r in chosen])
    return {"mean": float(a.mean()), "mean_other": float(b.mean()), "share_larger": float((a > b).mean()),
            "share_ties": float((a == b).mean())}


result = {"model": str(model_dir.resolve().relative_to(Path.cwd().resolve())) if model_dir.resolve().is_relative_to(Path.cwd().resolve()) else str(model_dir), "articles": len(rows), "seconds": round(time.perf_counter() - started, 1),
          "deletion_top1_vs_random1": summary("drop_top1", "drop_random1"),
          "deletion_top3_vs_random3": summary("drop_top3", "drop_random3"),
          "sufficiency_top1_vs_random1": summary("alone_top1", "alone_random1"),
          "per_source": {source: {"articles": count,
                                  "deletion_top1_vs_random1": summary("drop_top1", "drop_random1", source),
                                  "deletion_top3_vs_random3": summary("drop_top3", "drop_random3", source),
                                  "sufficiency_top1_vs_random1": summary("alone_top1", "alone_random1", source)}
                         for source, count in sorted(taken.items())},
          "rows": rows}
out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
