#!/usr/bin/env bash
# Trains the fast shipped model in one background run, ~95 min on 2 CPU cores with AMX, and writes it into model/default
# as a light directory beside the 12-layer model (model/default/teacher). Seeded
# (docs/default-model.md#the-fast-default). Steps:
#   1. the politics / security / diplomacy teacher: psd-teacher.yaml on the 1,200 annotated articles (the 200
#      fixed test ids held out), every layer of e5-small fine-tuned, ~27 min;
#   2. the student (fast.yaml): e5-small's first 4 layers on all ANT articles, sections for the topics, the
#      annotations and elsewhere the teacher's decisions for politics / security / diplomacy, ~44 min;
#   3. its reading and thresholds chosen on dev, then the export;
#   4. the title model (titles.yaml) on the titles of the student's own split, shipped in model/default/titles
#      without its TF-IDF blend, under fp32 ONNX (docs/default-model.md#the-title-model), ~20 min;
#   5. the topics `label` is chosen among, the second model and the title model (fast-reading.json: chosen on
#      dev, docs/default-model.md#the-second-model) laid over its topic_config.json, and its figures at that
#      reading written into its metrics.json and model card.
# The 12-layer model in model/default/teacher, which the student is measured against and hands texts to, is
# trained by train-default.sh (its export command is the last line that script prints); export keeps it.
# bf16 is left to the machine (fast.yaml): the shipped run had AMX, which makes bf16 the fast path; without
# AMX the run trains in fp32.
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
python "$recipes/../../docs/reports/second-model/title_corpus.py" "$corpus" "$runs/titles"
arabic-topics train --config "$recipes/titles.yaml" --data "$runs/titles/train.csv" --dev-data "$runs/titles/dev.csv" \
    --test-data "$runs/titles/test.csv" --output-dir "$runs/title-reader"
python "$recipes/ship_title_model.py" "$runs/title-reader" model/default/titles
python - model/default/topic_config.json "$recipes/fast-reading.json" <<'PY'
import json, sys
settings = json.load(open(sys.argv[1], encoding="utf-8"))
settings.update(json.load(open(sys.argv[2], encoding="utf-8")))
open(sys.argv[1], "w", encoding="utf-8").write(json.dumps(settings, ensure_ascii=False, indent=2) + "\n")
PY
python "$recipes/../../docs/reports/fast/record_reading.py" model/default "$corpus"
