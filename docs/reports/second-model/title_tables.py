"""The headline tables title_corpus.py writes (id, text, label), read back by the report scripts of this folder:
{split: (texts, labels)}."""
import csv


def read_title_tables(folder: str, splits=("dev", "test", "jawharafm")) -> dict[str, tuple[list[str], list[str]]]:
    parts = {}
    for split in splits:
        with open(f"{folder}/{split}.csv", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        parts[split] = ([r["text"] for r in rows], [r["label"] for r in rows])
    return parts
