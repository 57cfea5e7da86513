"""Rebuild the notebooks' small CSVs from the real samples committed in tests/data (see its PROVENANCE.md).

    python notebooks/data/make_csv.py
"""
import csv
import json
from pathlib import Path

from training.corpus import read_corpus
from training.hygiene import LabelMapping

repo = Path(__file__).parent.parent.parent
# ANT sections into the default model's topics, with the recipes' own mappings (docs/taxonomy.md)
for name, sample, mapping in (("train.csv", "ant", "topics.yaml"), ("heldout.csv", "jawhara", "jawhara-topics.yaml")):
    data = LabelMapping.from_yaml(repo / "training" / "recipes" / mapping).apply(read_corpus(repo / "tests" / "data" / sample))
    with open(Path(__file__).parent / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "title", "label"])
        writer.writerows(zip(data["text"], data["title"], data["label"]))
    print(f"{name}: {len(data)} articles")

# explain.ipynb's article: an annotated politics + security + diplomacy one from tests/data/psd.jsonl
ARTICLE = "BB-middleEast-792-20180724"
for line in (repo / "tests" / "data" / "psd.jsonl").read_text(encoding="utf-8").splitlines():
    record = json.loads(line)
    if record["id"] == ARTICLE:
        (Path(__file__).parent / "article.json").write_text(
            json.dumps({k: record[k] for k in ("id", "title", "text")}, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8")
        print(f"article.json: {ARTICLE}")
