#!/usr/bin/env bash
# The recipe-check suite: `arabic-topics train` with nothing but the data on each corpus written by
# make_corpora.py, then the table (docs/recipe-check.md) from each run's metrics.json.
#   bash docs/reports/recipe-check/run.sh runs/recipe-check/data runs/rc [NAME ...]
set -uo pipefail
data=$1 out=$2; shift 2
names=${*:-jawhara-titles psd1200 ant-titles ant5 jawhara9}
mkdir -p "$out"
for name in $names; do
  case $name in
    jawhara-titles) args=(--data "$data/jawhara-titles-train.csv" --dev-data "$data/jawhara-titles-dev.csv"
                          --test-data "$data/jawhara-titles-test.csv") ;;
    ant-titles) args=(--data "$data/ant-titles-8000.csv") ;;
    psd1200) args=(--data "$data/psd1200.jsonl") ;;
    ant5) args=(--data "$data/ant5-2500.jsonl") ;;
    jawhara9) args=(--data "$data/jawhara9.jsonl") ;;
    *) echo "unknown corpus $name" >&2; exit 2 ;;
  esac
  start=$(date +%s)
  arabic-topics train "${args[@]}" --output-dir "$out/$name" --overwrite > "$out/$name.log" 2>&1
  echo "$name exit $? $(( $(date +%s) - start )) s" | tee -a "$out/times.txt"
done
