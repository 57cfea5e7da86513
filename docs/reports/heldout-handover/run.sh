#!/bin/bash
# The default's reading on outlets no model saw, at the held-out sweep's scale: for each outlet named, the fast
# recipe's shape (4 layers, layer 1 frozen) and the 12-layer recipe's shape (12 layers, 10 frozen) trained on the
# same stratified 4,000-article subsample of the other four outlets (5 topics, 3 epochs at lr 3e-4, seed 0: the
# settings of docs/reports/heldout-sweep/run.sh, fp32), both kept, then handover.py scores every article of the
# held-out outlet with the student alone, the 12-layer model alone and the student handing its unsure articles
# (two best topics less than the shipped margin apart) to the 12-layer model, as model/default does.
# Usage: bash docs/reports/heldout-handover/run.sh CORPUS RUNS OUTLET ...
set -euo pipefail
data=${1:?corpus folder} runs=${2:?runs folder}
shift 2
mkdir -p "$runs"
for outlet in "$@"; do
    common=(--config training/recipes/default.yaml --data "$data" --split source --test-sources "$outlet"
            --max-train-samples 4000 --epochs 3 --learning-rate 3e-4 --bf16 false
            --feature-cache "$runs/cache" --overwrite)
    for shape in l4-f1 l12-f10; do
        [ -f "$runs/$outlet-$shape/metrics.json" ] && continue
        if [ "$shape" = l4-f1 ]; then layers=(--num-layers 4 --freeze-layers 1); else layers=(--freeze-layers 10); fi
        /usr/bin/time -v arabic-topics train "${common[@]}" "${layers[@]}" --output-dir "$runs/$outlet-$shape" \
            > "$runs/$outlet-$shape.log" 2>&1
    done
done
