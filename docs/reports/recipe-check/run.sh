#!/usr/bin/env bash
# The recipe-check suite: `arabic-topics train` with nothing but the data on each corpus written by
# make_corpora.py, each under /usr/bin/time -v (wall time, peak memory, the share of the two cores used),
# then the table (docs/recipe-check.md) from each run's metrics.json.
#   bash docs/reports/recipe-check/run.sh runs/recipe-check/data runs/rc [NAME ...]
# SEED=N before the command adds --seed N to every run (the only change; the default command's seed is 0).
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
    titles10) args=(--data "$data/titles10.csv") ;;
    ant-long) args=(--data "$data/ant-long-6000.jsonl") ;;
    ant-600) args=(--data "$data/ant-600.jsonl" --test-data "$data/ant-600-test.jsonl") ;;
    ant-all) args=(--data "$data/ant-all.jsonl") ;;
    *) echo "unknown corpus $name" >&2; exit 2 ;;
  esac
  start=$(date +%s)
  /usr/bin/time -v -o "$out/$name.time" arabic-topics train "${args[@]}" ${SEED:+--seed "$SEED"} --output-dir "$out/$name" --overwrite \
    > "$out/$name.log" 2>&1
  status=$?
  echo "$name exit $status $(( $(date +%s) - start )) s, $(grep -h 'Percent of CPU' "$out/$name.time" | tr -d '\t')," \
    "peak RSS $(grep -h 'Maximum resident' "$out/$name.time" | grep -o '[0-9]*') kB" | tee -a "$out/times.txt"
done
