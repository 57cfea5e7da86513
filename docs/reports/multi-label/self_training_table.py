"""The table of the self-training lead (docs/multi-label.md): the annotated table training/recipes/make_psd_table.py
wrote (the annotated politics / security / diplomacy articles) plus N other ANT articles drawn at random (seed 0),
whose three labels training fills from a student's decisions (--pseudo-labels-from).

    python docs/reports/multi-label/self_training_table.py ../shared/datasets/ant-multisource-v2.1 \
        runs/psd1200.jsonl 1500 runs/psd-self.jsonl
"""
import json
import sys
from pathlib import Path

import numpy as np

from training.corpus import read_corpus

corpus_dir, table, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
lines = Path(table).read_text(encoding="utf-8").rstrip("\n").split("\n")  # not splitlines: texts hold U+2028
annotated = [json.loads(line) for line in lines]
corpus = read_corpus(corpus_dir)
seen_ids, seen_texts = {r["id"] for r in annotated}, {r["text"] for r in annotated}
others = [i for i, (id_, text) in enumerate(zip(corpus["id"], corpus["text"]))
          if id_ not in seen_ids and text not in seen_texts]
drawn = corpus.select([others[i] for i in sorted(np.random.default_rng(0).choice(len(others), n, replace=False))])
rows = [json.dumps({k: record[k] for k in ("id", "title", "text", "label", "source")}, ensure_ascii=False)
        for record in drawn]
Path(out).write_text("".join(line + "\n" for line in lines + rows), encoding="utf-8")
print(f"wrote {len(lines) + n} articles to {out} ({len(lines)} from {table}, {n} drawn)")
