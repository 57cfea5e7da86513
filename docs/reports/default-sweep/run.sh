#!/bin/bash
# Dev-split sweep around the default recipe (docs/default-model.md, "Runs"): the same data, split and seed as
# training/recipes/default.yaml, on a stratified 4,000-article training subsample, dev and test capped at
# 1,000, 2 epochs; one setting changed per run, or two where a row names both.
# Usage: bash docs/reports/default-sweep/run.sh CORPUS [RUN ...]   (named runs only: appended to the results)
set -euo pipefail
data=${1:?corpus folder, e.g. ../shared/datasets/ant-multisource-v2.1}
shift
only=" $* "
common=(--config training/recipes/default.yaml --data "$data" --max-train-samples 4000 --max-eval-samples 1000
        --epochs 2 --overwrite)
run() {  # NAME ARGS...: train, then keep only the scores and the wall clock
    name=$1; shift
    [ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || return 0
    start=$(date +%s)
    arabic-topics train "${common[@]}" --output-dir "runs/sweep/$name" "$@" > "runs/sweep/$name.log" 2>&1
    python - "$name" "$(( $(date +%s) - start ))" "$*" <<'PY'
import json, sys
name, seconds, args = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = json.load(open(f"runs/sweep/{name}/metrics.json"))
print(json.dumps({"run": name, "changed": args or "(recipe)", "dev_macro_f1": m["dev"]["macro_f1"],
                  "test_macro_f1": m["test"]["macro_f1"], "seconds": seconds}))
PY
    rm -rf "runs/sweep/$name"
}
mkdir -p runs/sweep
{
run recipe
run lr3e-5 --learning-rate 3e-5
run lr3e-4 --learning-rate 3e-4
run frozen8 --freeze-layers 8 --feature-cache runs/sweep-cache
run len256 --max-length 256 --feature-cache runs/sweep-cache
run len256-lr3e-4 --max-length 256 --learning-rate 3e-4 --feature-cache runs/sweep-cache
run frozen8-lr3e-4 --freeze-layers 8 --learning-rate 3e-4 --feature-cache runs/sweep-cache
} | if [ "$only" = "  " ]; then tee docs/reports/default-sweep/results.jsonl; else tee -a docs/reports/default-sweep/results.jsonl; fi
