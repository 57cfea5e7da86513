"""Write the annotated politics/security/diplomacy articles as a JSONL table (id, title, text, label =
ANT section, source): the training data of the multi-label teacher (training/recipes/psd-teacher.yaml).
ANNOTATIONS is one JSONL file or several, comma-separated.

    python training/recipes/make_psd_table.py ../shared/datasets/ant-multisource-v2.1 \
        ../shared/datasets/ant-politics-security-diplomacy/labels.jsonl,../shared/datasets/ant-politics-security-diplomacy/labels-more.jsonl \
        runs/psd1200.jsonl
"""
import json
import sys
from pathlib import Path

from training.corpus import read_corpus
from training.partial_labels import first_copies, read_annotations

corpus_dir, labels_path, out = sys.argv[1:4]
annotated = read_annotations(labels_path.split(","))
corpus = read_corpus(corpus_dir)
rows = [{k: record[k] for k in ("id", "title", "text", "label", "source")}
        for record in first_copies(corpus, annotated)]
if len(rows) != len(annotated):
    sys.exit(f"{len(annotated) - len(rows)} annotated ids are not in {corpus_dir}")
Path(out).parent.mkdir(parents=True, exist_ok=True)
Path(out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
print(f"wrote {len(rows)} articles to {out}")
