"""Headline tables for a title reader: the shipped default's own train / dev / test split of ANT (5 topics,
`training/recipes/topics.yaml`, the fixed annotated ids left out of test as titles.py leaves them), each article's
title alone as its text; and JawharaFM's titles in the same 5 topics (`training/recipes/jawhara-topics.yaml`),
an outlet that no split holds, those with a body only (the 3,760 of docs/reports/cross-corpus/jawhara.py
--titles). Articles without a title are left out.

    python docs/reports/second-model/title_corpus.py ../shared/datasets/ant-multisource-v2.1 \
        [../shared/datasets/ant-jawharafm-v1.1] runs/titles
    arabic-topics train --data runs/titles/train.csv --dev-data runs/titles/dev.csv \
        --test-data runs/titles/test.csv --output-dir runs/title-reader
    arabic-topics evaluate --model runs/title-reader --data runs/titles/jawharafm.csv
"""
import csv
import sys
from pathlib import Path

from eval.protocols import topic_parts
from training.corpus import read_corpus
from training.hygiene import LabelMapping

if len(sys.argv) not in (3, 4):
    sys.exit("usage: python docs/reports/second-model/title_corpus.py ANT_CORPUS [JAWHARA_CORPUS] OUT")
ant, jawhara, out = sys.argv[1], (sys.argv[2] if len(sys.argv) == 4 else None), Path(sys.argv[-1])
out.mkdir(parents=True, exist_ok=True)
parts = topic_parts("model/default", ant, "training/recipes/topics.yaml")[0]
if jawhara:  # the evaluation table only; training needs ANT's alone
    parts["jawharafm"] = LabelMapping.from_yaml("training/recipes/jawhara-topics.yaml").apply(read_corpus(jawhara)) \
        .filter(lambda r: r["text"].strip() != "")  # as jawhara.py: a few files have a title and no body
for name, part in parts.items():
    rows = [(i, t.strip(), lab) for i, t, lab in zip(part["id"], part["title"], part["label"]) if t and t.strip()]
    with open(out / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "label"])
        writer.writerows(rows)
    print(name, len(rows), "titles")
