"""Plot the frontier written by frontier.py: docs/s against macro-F1 (5 topics, and politics / security /
diplomacy), one point per candidate, the reference pipeline's speed marked.

    python docs/reports/fast/plot.py docs/reports/fast/frontier.json docs/reports/fast/frontier.png [PIPELINE_DOCS_PER_S]
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = json.load(open(sys.argv[1]))["rows"]
pipeline = float(sys.argv[3]) if len(sys.argv) > 3 else None
fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharex=True)
for ax, key, title in ((axes[0], "topics_macro_f1", "ANT test split, 5 topics"),
                       (axes[1], "psd_macro_f1", "200 annotated ids, politics / security / diplomacy")):
    for row in rows:
        teacher = row["layers"] == 12
        ax.scatter(row["docs_per_s"], row[key], marker="s" if teacher else "o",
                   color={"fp32": "tab:blue", "bf16": "tab:orange", "onnx": "tab:green",
                          "onnx-int8": "tab:red"}[row["backend"]])
        ax.annotate(f"{row['layers']}L {row['max_length']}x{row['max_windows']} {row['backend']}",
                    (row["docs_per_s"], row[key]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if pipeline:
        for k, style in ((1, "-"), (5, "--")):
            ax.axvline(k * pipeline, color="grey", linestyle=style, linewidth=0.8)
            ax.annotate(f"{k}x pipeline", (k * pipeline, ax.get_ylim()[0]), fontsize=7, rotation=90,
                        xytext=(2, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("docs/s (2 cores, batch 32)")
    ax.set_ylabel("macro-F1")
    ax.set_title(title)
    ax.grid(alpha=0.3)
fig.suptitle("Fast default candidates: squares the 12-layer teacher, circles the 4-layer student; "
             "colour = backend (blue fp32, orange bf16, red onnx-int8); grey lines: 1x and 5x the reference pipeline", fontsize=9)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
