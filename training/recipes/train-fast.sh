#!/usr/bin/env bash
# Trains the fast shipped model in one background run, ~75 min on 2 CPU cores, and writes it into model/default
# as a light directory beside the 12-layer model (model/default/teacher). Seeded
# (docs/default-model.md#the-fast-default). Steps:
#   1. the politics / security / diplomacy teacher: psd-teacher.yaml on the 1,200 annotated articles (the 200
#      fixed test ids held out), every layer of e5-small fine-tuned, ~27 min;
#   2. the student (fast.yaml): e5-small's first 4 layers on all ANT articles, sections for the topics, the
#      annotations and elsewhere the teacher's decisions for politics / security / diplomacy, ~44 min;
#   3. its reading and thresholds chosen on dev, then the export;
#   4. the topics `label` is chosen among and the second model (fast-reading.json: chosen on dev,
#      docs/default-model.md#the-second-model) laid over its topic_config.json, and its figures at that reading
#      written into its metrics.json and model card.
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
annotations="$annotated/labels.jsonl,$annotated/labels-more.jsonl"
mkdir -p "$runs"
python "$recipes/make_psd_table.py" "$corpus" "$annotations" "$runs/psd1200.jsonl"
arabic-topics train --config "$recipes/psd-teacher.yaml" --data "$runs/psd1200.jsonl" \
    --annotations "$annotations" --output-dir "$runs/psd1200-ft16"
arabic-topics train --config "$recipes/fast.yaml" --data "$corpus" --annotations "$annotations" \
    --pseudo-labels-from "$runs/psd1200-ft16" --output-dir "$runs/fast"
# the reading and thresholds chosen on dev for the backend it ships with, among the window lengths that run at
# least 5x the reference pipeline in every benchmark run (128 tokens ran 4.86-5.14x: docs/benchmarks.md)
python "$recipes/../../docs/reports/fast/choose_reading.py" "$runs/fast" onnx-int8 112,120
arabic-topics export --model "$runs/fast" --out model/default
python - model/default/topic_config.json "$recipes/fast-reading.json" <<'PY'
import json, sys
settings = json.load(open(sys.argv[1], encoding="utf-8"))
settings.update(json.load(open(sys.argv[2], encoding="utf-8")))
open(sys.argv[1], "w", encoding="utf-8").write(json.dumps(settings, ensure_ascii=False, indent=2) + "\n")
PY
python "$recipes/../../docs/reports/fast/record_reading.py" model/default "$corpus"
