"""Write the recipe-check corpora: corpora of different shapes built from the shared datasets, each a plain
table that `arabic-topics train --data FILE` reads with no other option.

    python docs/reports/recipe-check/make_corpora.py ../shared/datasets runs/recipe-check/data

Besides the suite's first corpora (1-6) it writes one corpus of each shape docs/recipe-check.md lists: short
posts in 10 classes (7), long articles with fuzzy classes (8), a few hundred rows (9), tens of thousands (10).
Lengths are counted with e5-small's tokenizer on the text the encoder reads ("passage: " + title + body).
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


# The shapes. Token lengths as the encoder reads them (the prefix and title included).
from transformers import AutoTokenizer  # noqa: E402

from model.offline_e5 import ensure_built  # noqa: E402

tokenizer = AutoTokenizer.from_pretrained(ensure_built())


def tokens(texts: list[str]) -> list[int]:
    return [len(ids) for ids in tokenizer(["passage: " + t for t in texts], add_special_tokens=True)["input_ids"]]


# 7. Short posts in 10 classes: 6,000 JawharaFM titles and 4,000 ANT titles, each at most 40 tokens, labelled
# with the union of the two outlets' sections (sport, economy, culture, technology and internationalNews are
# shared names): 10 classes, imbalanced, two ways of filing international news.
def short_titles(rows: list[dict]) -> list[dict]:
    rows = [{**r, "text": r["title"], "title": ""} for r in rows if r["title"].strip()]
    return [r for r, n in zip(rows, tokens([r["text"] for r in rows])) if n <= 40]


write("titles10.csv", sample(sample(short_titles(jawhara), 6000, seed=7) + sample(short_titles(ant_rows), 4000, seed=7),
                             10_000, seed=7))
# 8. Long articles with fuzzy classes: 6,000 ANT articles of 400 tokens or more, 6 sections (internationalNews
# and middleEast are filed differently by the five outlets).
long_rows = [r for r, n in zip(ant_rows, tokens([f"{r['title']}\n{r['text']}" for r in ant_rows])) if n >= 400]
long_rows = sample(long_rows, len(long_rows), seed=8)
write("ant-long-6000.jsonl", long_rows[:6000])
# and 1,200 more of them, in no split, to time `arabic-topics evaluate` on long articles
write("ant-long-eval-1200.jsonl", long_rows[6000:7200])
# 9. A few hundred rows: 600 ANT articles (6 sections) to train and tune on, scored on 1,000 other ANT articles.
few = sample(ant_rows, 1600, seed=9)
write("ant-600.jsonl", few[:600])
write("ant-600-test.jsonl", few[600:])
# 10. Tens of thousands: every deduplicated ANT article, 6 sections.
write("ant-all.jsonl", ant_rows)
