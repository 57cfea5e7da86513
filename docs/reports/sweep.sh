# The run helper of the sweeps (docs/reports/*-sweep/run.sh), sourced by them. Each sweep sets:
#   only      " NAME ... ": the runs named on its command line ("  ": all of them)
#   common    the arguments every run shares
#   runs      folder of the run folders and their logs
#   test_key  what the rows call the test split (e.g. "cnn" for an outlet held out)
# `sweep_wanted NAME` says whether a run was asked for; `sweep_run NAME ARGS...` trains one run, prints its row
# (dev and test macro-F1, test accuracy, the TF-IDF baseline's test figures, wall clock) and removes the model;
# `sweep_results FILE` after a sweep's runs writes the rows to FILE (a full sweep) or appends them (named runs).
mkdir -p "$runs"  # the runs' folders and logs, and whatever else a sweep keeps there (a teacher)

sweep_wanted() {  # NAME: whether the command line asks for this run
    [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]
}

sweep_run() {
    local name=$1; shift
    sweep_wanted "$name" || return 0
    local start
    start=$(date +%s)
    arabic-topics train "${common[@]}" --output-dir "$runs/$name" "$@" > "$runs/$name.log" 2>&1
    python - "$runs/$name/metrics.json" "$name" "$(( $(date +%s) - start ))" "$test_key" "$*" <<'PY'
import json, sys
path, name, seconds, key, args = sys.argv[1:]
m = json.load(open(path))
t, b = m["test"], m["baseline"]["test"]
print(json.dumps({"run": name, "changed": args or "(recipe)", "dev_macro_f1": round(m["dev"]["macro_f1"], 4),
                  f"{key}_macro_f1": round(t["macro_f1"], 4), f"{key}_accuracy": round(t["accuracy"], 4),
                  f"tfidf_{key}_macro_f1": round(b["macro_f1"], 4), f"tfidf_{key}_accuracy": round(b["accuracy"], 4),
                  "seconds": int(seconds)}))
PY
    rm -rf "${runs:?}/$name"
}

sweep_results() {
    if [ "$only" = "  " ]; then tee "$1"; else tee -a "$1"; fi
}
