"""The table of the self-training lead (docs/multi-label.md): the annotated politics / security / diplomacy
articles (as training/recipes/make_psd_table.py writes them) plus N other ANT articles drawn at random (seed 0),
whose three labels training fills from a student's decisions (--pseudo-labels-from).

    python docs/reports/multi-label/self_training_table.py ../shared/datasets/ant-multisource-v2.1 \
        ../shared/datasets/ant-politics-security-diplomacy/labels.jsonl,../shared/datasets/ant-politics-security-diplomacy/labels-more.jsonl \
        1500 runs/psd-self.jsonl
"""
import json
import sys
from pathlib import Path

import numpy as np

from training.corpus import read_corpus
from training.partial_labels import first_copies, read_annotations

corpus_dir, labels_path, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
annotated = read_annotations(labels_path.split(","))
corpus = read_corpus(corpus_dir)
fields = ("id", "title", "text", "label", "source")
rows = [{k: record[k] for k in fields} for record in first_copies(corpus, annotated)]
seen_ids, seen_texts = set(annotated), {r["text"] for r in rows}
others = [i for i, (id_, text) in enumerate(zip(corpus["id"], corpus["text"]))
          if id_ not in seen_ids and text not in seen_texts]
drawn = sorted(np.random.default_rng(0).choice(len(others), n, replace=False).tolist())
rows += [{k: corpus[others[i]][k] for k in fields} for i in drawn]
Path(out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
print(f"wrote {len(rows)} articles to {out} ({len(annotated)} annotated, {n} drawn)")
