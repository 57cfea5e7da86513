#!/usr/bin/env bash
# Trains the 12-layer multi-label model (shipped as model/default/teacher, the full-size model the fast default
# is measured against) from the corpora in one background run: the annotated table, the teacher
# (psd-teacher.yaml, ~11 min on 2 CPU cores), then the student (multi-label.yaml, ~41 min). Seeded; a rerun on
# the same machine gives the same weights (docs/default-model.md#reproducing-the-shipped-model).
#
#   nohup bash training/recipes/train-default.sh ../shared/datasets/ant-multisource-v2.1 \
#       ../shared/datasets/ant-politics-security-diplomacy/labels.jsonl runs > runs/train-default.log 2>&1 &
#
# Writes RUNS/psd600.jsonl, RUNS/psd-ft16 (the teacher) and RUNS/multi-label-student (the model to export).
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: bash training/recipes/train-default.sh CORPUS ANNOTATIONS [RUNS_FOLDER (default: runs)]" >&2
    exit 2
fi
corpus=$1 annotations=$2 runs=${3:-runs}
recipes=$(dirname "$0")
mkdir -p "$runs"
python "$recipes/make_psd_table.py" "$corpus" "$annotations" "$runs/psd600.jsonl"
arabic-topics train --config "$recipes/psd-teacher.yaml" --data "$runs/psd600.jsonl" \
    --annotations "$annotations" --output-dir "$runs/psd-ft16"
arabic-topics train --config "$recipes/multi-label.yaml" --data "$corpus" --annotations "$annotations" \
    --pseudo-labels-from "$runs/psd-ft16" --output-dir "$runs/multi-label-student"
echo "trained: $runs/multi-label-student; ship it as the teacher with: arabic-topics export --model $runs/multi-label-student --out model/default/teacher"
