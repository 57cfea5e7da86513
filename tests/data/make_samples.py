"""Rebuild the small real samples in tests/data from the ANT corpora (run once; outputs are committed).

    python tests/data/make_samples.py ../shared/datasets
"""
import json
import random
import shutil
import sys
from collections import defaultdict
from pathlib import Path

from training.corpus import article_files, parse_ant_file
from training.hygiene import body_key

root = Path(sys.argv[1])
here = Path(__file__).parent
multi = root / "ant-multisource-v2.1"
rng = random.Random(0)

# ANT multi-source: 6 articles per category, spread over outlets, short ones (small repo), plus one pair of
# identical bodies filed under two categories (the cross-label duplicate trap).
by_cat = defaultdict(list)
files = article_files(multi)
for path in files:
    by_cat[path.parent.name].append(path)
chosen = []
for _, paths in sorted(by_cat.items()):
    short = [p for p in paths if p.stat().st_size < 2500]
    chosen += rng.sample(short, 6)
groups = defaultdict(list)
for path in files:
    if path.stat().st_size < 2500:
        article = parse_ant_file(path)
        groups[body_key(article["text"])].append((article["label"], path))
pair = next(members for _, members in sorted(groups.items())
            if len(members) == 2 and members[0][0] != members[1][0])
chosen += [p for _, p in pair]
out = here / "ant"
shutil.rmtree(out, ignore_errors=True)
for path in chosen:
    target = out / path.relative_to(multi)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)

# JawharaFM: two per category, plus the published file without <CAT>.
jaw = root / "ant-jawharafm-v1.1"
out = here / "jawhara"
shutil.rmtree(out, ignore_errors=True)
picks = [jaw / "politic" / "JA-politic-92-20170201.txt"]
for cat in sorted(p for p in jaw.iterdir() if p.is_dir()):
    picks += rng.sample(sorted(p for p in cat.glob("*.txt") if p.stat().st_size < 2000), 2)
for path in picks:
    target = out / path.relative_to(jaw)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)

# Politics / security / diplomacy annotations joined to their texts: a real multi-label JSONL table.
labels = [json.loads(line) for line in (root / "ant-politics-security-diplomacy" / "labels.jsonl").open()]
index = {p.stem: p for p in files}
rows, annotations = [], []
for rec in rng.sample(labels, 40):
    article = parse_ant_file(index[rec["id"]])
    names = [n for n in ("politics", "security", "diplomacy") if rec[n]]
    rows.append({"id": rec["id"], "title": article["title"], "text": article["text"][:1500],
                 "labels": "|".join(names) or "none", "section": rec["section"]})
    annotations.append(rec)
with open(here / "psd.jsonl", "w", encoding="utf-8") as handle:
    for row in rows:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
# The same 40 annotation records as published (id, section, three 0/1 labels), for partial-label training.
with open(here / "psd-labels.jsonl", "w", encoding="utf-8") as handle:
    for rec in annotations:
        handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
print(f"{len(chosen)} ANT, {len(picks)} JawharaFM, {len(rows)} annotated")
