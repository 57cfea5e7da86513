#!/usr/bin/env bash
# Trains the fast shipped model (fast.yaml: a 4-layer student of model/default/teacher, which train-default.sh
# trains) in one background run, ~70 min on 2 CPU cores, and writes it into model/default as a light
# directory beside its teacher. Seeded (docs/default-model.md#the-fast-default).
#
#   nohup bash training/recipes/train-fast.sh ../shared/datasets/ant-multisource-v2.1 \
#       ../shared/datasets/ant-politics-security-diplomacy runs > runs/train-fast.log 2>&1 &
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: bash training/recipes/train-fast.sh CORPUS ANNOTATIONS_FOLDER [RUNS_FOLDER (default: runs)]" >&2
    exit 2
fi
corpus=$1 annotated=$2 runs=${3:-runs}
recipes=$(dirname "$0")
mkdir -p "$runs"
arabic-topics train --config "$recipes/fast.yaml" --data "$corpus" \
    --annotations "$annotated/labels.jsonl,$annotated/labels-more.jsonl" --output-dir "$runs/fast"
# the reading and thresholds chosen on dev for the backend it ships with, among the window lengths that run at
# least 5x the reference pipeline (112 and 96 tokens; 128 ran 4.7x: docs/benchmarks.md)
python "$recipes/../../docs/reports/fast/choose_reading.py" "$runs/fast" onnx-int8 96,112
arabic-topics export --model "$runs/fast" --out model/default
