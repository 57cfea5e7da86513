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
runs=runs/sweep test_key=test
source "$(dirname "$0")/../sweep.sh"
{
sweep_run recipe
sweep_run lr3e-5 --learning-rate 3e-5
sweep_run lr3e-4 --learning-rate 3e-4
sweep_run frozen8 --freeze-layers 8 --feature-cache runs/sweep-cache
sweep_run len256 --max-length 256 --feature-cache runs/sweep-cache
sweep_run len256-lr3e-4 --max-length 256 --learning-rate 3e-4 --feature-cache runs/sweep-cache
sweep_run frozen8-lr3e-4 --freeze-layers 8 --learning-rate 3e-4 --feature-cache runs/sweep-cache
} | sweep_results docs/reports/default-sweep/results.jsonl
