"""Write the recipe-check corpora: corpora of different shapes built from the shared datasets, each a plain
table that `arabic-topics train --data FILE` reads with no other option.

    python docs/reports/recipe-check/make_corpora.py ../shared/datasets runs/recipe-check/data
"""
import csv
import json
import random
import sys
from pathlib import Path

from training.corpus import read_corpus
from training.hygiene import LabelMapping, clean
from training.partial_labels import first_copies, read_annotations

shared, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
FIELDS = ("id", "title", "text", "label")


def write(name: str, rows: list[dict]) -> None:
    path = out / name
    if path.suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, FIELDS)
            writer.writeheader()
            writer.writerows({k: r[k] for k in FIELDS} for r in rows)
    else:
        path.write_text("".join(json.dumps({k: r[k] for k in FIELDS}, ensure_ascii=False) + "\n" for r in rows),
                        encoding="utf-8")
    print(f"{path}: {len(rows)} rows")


def sample(rows: list[dict], n: int, seed: int = 0) -> list[dict]:
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    return rows[:n]


ant = read_corpus(shared / "ant-multisource-v2.1")
ant_rows, _ = clean(ant)
ant_rows = list(ant_rows)
jawhara = list(clean(read_corpus(shared / "ant-jawharafm-v1.1"))[0])

# 1. ANT, 5 topics (sections mapped by the shipped taxonomy), 2,500 articles: 2,000 train after dev/test.
topics = LabelMapping.from_yaml("training/recipes/topics.yaml")
write("ant5-2500.jsonl", sample(list(topics.apply(clean(ant)[0])), 2500))
# 3. JawharaFM, 9 sections, whole (one Tunisian outlet, imbalanced 58:1).
write("jawhara9.jsonl", jawhara)
# 4. JawharaFM titles only as official train / dev / test files: short texts, 9 imbalanced labels.
titles = [{**r, "text": r["title"], "title": ""} for r in sample(jawhara, len(jawhara), seed=2) if r["title"].strip()]
n = len(titles)
write("jawhara-titles-train.csv", titles[: n - 2000])
write("jawhara-titles-dev.csv", titles[n - 2000: n - 1000])
write("jawhara-titles-test.csv", titles[n - 1000:])
# 5. ANT titles only, 6 sections, 8,000 titles: short texts of a second outlet mix.
write("ant-titles-8000.csv", sample([{**r, "text": r["title"], "title": ""} for r in ant_rows if r["title"].strip()],
                                    8000, seed=3))
# 6. The 1,200 politics / security / diplomacy articles, multi-label (an article may have none of them).
annotated = {**read_annotations(shared / "ant-politics-security-diplomacy/labels.jsonl"),
             **read_annotations(shared / "ant-politics-security-diplomacy/labels-more.jsonl")}
psd = []
for record in first_copies(ant, annotated):
    known = annotated[record["id"]]
    psd.append({**record, "label": sorted(lab for lab, v in known.items() if v)})
write("psd1200.jsonl", psd)
