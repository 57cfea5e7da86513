#!/bin/bash
# Held-out-outlet sweep: which encoder depth and trained depth keep the margin over TF-IDF on an outlet never
# trained on. The 5-topic task (training/recipes/default.yaml's label map and seed), CNN held out as the outlet
# that chooses (so BBC and Alarabia, the held-out rows of docs/default-model.md, stay untouched by the choice),
# a stratified 4,000-article training subsample of the other four outlets, 3 epochs at lr 3e-4, every CNN
# article scored (the head on one window). One setting changed per run.
# Scores: test macro-F1 and accuracy on CNN, for the model and for the TF-IDF + LinearSVC baseline that training
# fits on the same articles. CNN has no culture section, so culture's F1 is 0 for both and the macro-F1 over
# the four topics CNN files is 5/4 of the figure.
# Usage: bash docs/reports/heldout-sweep/run.sh CORPUS [RUN ...]   (named runs only; rows appended to results)
set -euo pipefail
data=${1:?corpus folder, e.g. ../shared/datasets/ant-multisource-v2.1}
shift
only=" $* "
common=(--config training/recipes/default.yaml --data "$data" --split source --test-sources CNN
        --max-train-samples 4000 --epochs 3 --learning-rate 3e-4
        --feature-cache runs/sweep-cache --overwrite)
run() {  # NAME ARGS...: train, then keep only the scores and the wall clock
    name=$1; shift
    [ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || return 0
    start=$(date +%s)
    arabic-topics train "${common[@]}" --output-dir "runs/heldout-sweep/$name" "$@" \
        > "runs/heldout-sweep/$name.log" 2>&1
    python - "$name" "$(( $(date +%s) - start ))" "$*" <<'PY'
import json, sys
name, seconds, args = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = json.load(open(f"runs/heldout-sweep/{name}/metrics.json"))
t, b = m["test"], m["baseline"]["test"]
print(json.dumps({"run": name, "changed": args, "dev_macro_f1": round(m["dev"]["macro_f1"], 4),
                  "cnn_macro_f1": round(t["macro_f1"], 4), "cnn_accuracy": round(t["accuracy"], 4),
                  "tfidf_cnn_macro_f1": round(b["macro_f1"], 4), "tfidf_cnn_accuracy": round(b["accuracy"], 4),
                  "seconds": seconds}))
PY
    rm -rf "runs/heldout-sweep/$name"
}
mkdir -p runs/heldout-sweep
{
run l4-f1 --num-layers 4 --freeze-layers 1
run l4-f2 --num-layers 4 --freeze-layers 2
run l4-f3 --num-layers 4 --freeze-layers 3
run l12-f10 --freeze-layers 10
run l6-f3 --num-layers 6 --freeze-layers 3
run l4-f1-lr1e-4 --num-layers 4 --freeze-layers 1 --learning-rate 1e-4
# a second seed (another training subsample, dev split and initialisation) for the three depths
run l4-f1-seed1 --num-layers 4 --freeze-layers 1 --seed 1
run l6-f3-seed1 --num-layers 6 --freeze-layers 3 --seed 1
run l12-f10-seed1 --freeze-layers 10 --seed 1
} | if [ "$only" = "  " ]; then tee docs/reports/heldout-sweep/results.jsonl; else tee -a docs/reports/heldout-sweep/results.jsonl; fi
