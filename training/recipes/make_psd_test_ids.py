"""Write psd-test-ids.txt: the fixed test split of the annotated politics/security/diplomacy set, kept out
of all training. 200 of the 600 articles, stratified on the label combination, seed 0.

    python training/recipes/make_psd_test_ids.py ../shared/datasets/ant-politics-security-diplomacy/labels.jsonl
"""
import json
import sys
from pathlib import Path

import numpy as np

from training.hygiene import split_indices

LABELS = ("politics", "security", "diplomacy")

records = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
combos = ["|".join(lab for lab in LABELS if r[lab]) or "none" for r in records]
_, test = split_indices(np.arange(len(records)), combos, 200, seed=0)
out = Path(__file__).with_name("psd-test-ids.txt")
out.write_text("".join(records[i]["id"] + "\n" for i in sorted(test)))
print(f"wrote {len(test)} ids to {out}")
