"""The recipe-check table from the runs of run.sh: each corpus's default run against the TF-IDF baseline.

    python docs/reports/recipe-check/table.py runs/rc docs/reports/recipe-check/results.json
"""
import json
import sys
from pathlib import Path

runs, out = Path(sys.argv[1]), Path(sys.argv[2])
seconds = {}
cores = {}  # share of one core the run used, from /usr/bin/time (200 % = both cores busy throughout)
for line in (runs / "times.txt").read_text().splitlines():
    words = line.replace(",", "").split()  # NAME exit STATUS SECONDS s [Percent of CPU this job got: N% peak RSS K kB]
    name, status, wall = words[0], int(words[2]), int(words[3])
    seconds[name] = (status, wall)
    if "CPU" in words:
        cores[name] = (int(words[words.index("got:") + 1].rstrip("%")), int(words[words.index("RSS") + 1]) / 2**20)
rows, results = [], {}
for name, (status, wall) in seconds.items():
    if status != 0 or not (runs / name / "metrics.json").is_file():
        rows.append(f"| {name} | failed (exit {status}) |||||||||")
        continue
    metrics = json.loads((runs / name / "metrics.json").read_text())
    summary = json.loads((runs / name / "data_summary.json").read_text())
    recipe = metrics["recipe"]["chosen"]
    part = "test" if "test" in metrics else "dev"
    theirs = metrics["baseline"][part]["macro_f1"]
    if (runs / name / "blend.json").is_file():  # trained before the blend step: blend.py applied it afterwards
        blend = json.loads((runs / name / "blend.json").read_text())
        alone, ours = blend["test_alone"], blend["test_default"]
    else:
        blend = metrics.get("fusion", {})
        alone = metrics.get("transformer_alone", metrics)[part]["macro_f1"]
        ours = metrics[part]["macro_f1"]
    blended = f"{'yes' if blend.get('adopted') else 'no'} ({blend.get('alone_dev_macro_f1', 0):.3f} → {blend.get('dev_macro_f1', 0):.3f})"
    results[name] = {"split": summary["split"], "labels": len(summary["label_counts"]["train"]), "scored_on": part,
                     "model_macro_f1": ours, "transformer_alone_macro_f1": alone, "blend": blend,
                     "baseline_macro_f1": theirs, "dev_macro_f1": metrics["dev"]["macro_f1"],
                     "baseline_dev_macro_f1": metrics["baseline"]["dev"]["macro_f1"], "wall_seconds": wall,
                     "estimate_seconds": metrics["recipe"]["estimate_seconds"], "recipe": recipe,
                     "best_epoch": metrics.get("best_epoch"), "steps": metrics["training"]["steps"],
                     "cpu_percent": cores.get(name, (None, None))[0], "peak_rss_gb": cores.get(name, (None, None))[1]}
    cpu, rss = cores.get(name, (None, None))
    used = f"{cpu} % / {rss:.1f}" if cpu is not None else "not recorded"
    rows.append(f"| {name} | {summary['split']['train']} / {summary['split']['dev']} / {summary['split']['test']} | "
                f"{len(summary['label_counts']['train'])} | {recipe.get('max_length')} / {recipe.get('freeze_layers')} / "
                f"{recipe.get('epochs', 0):g} / {'on' if recipe.get('class_weights') else 'off'} | "
                f"{alone:.4f} | {theirs:.4f} | **{100 * (alone - theirs):+.1f}** | {blended} | {ours:.4f} | {100 * (ours - theirs):+.1f} | "
                f"{wall / 60:.1f} (est. {metrics['recipe']['estimate_seconds'] / 60:.0f}) | {used} |")
header = ["| corpus | train / dev / test | labels | max length / frozen layers / max epochs / class weights | "
          "transformer alone, test macro-F1 | TF-IDF, test macro-F1 | transformer alone − TF-IDF (points) | blend "
          "adopted (dev macro-F1 alone → blended) | default command, test macro-F1 | default − TF-IDF (points) | "
          "minutes (estimate) | CPU (of 200 %) / peak GB |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|"]
print("\n".join(header + rows))
out.write_text(json.dumps(results, indent=2))
