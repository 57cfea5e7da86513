"""Report files: confusion matrix and reliability plots (matplotlib), report.md, errors.csv."""
from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from model.card import markdown_table  # noqa: E402


def plot_confusion(counts: np.ndarray, labels: list[str], path: Path, title: str) -> None:
    """Counts in each cell, colour by the row-normalised share (recall per gold label)."""
    counts = np.asarray(counts)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.5, 0.7 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{counts[i, j]}\n{share[i, j]:.0%}", ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of gold row")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_label_confusions(matrices: dict, per_label: dict, path: Path) -> None:
    """Multi-label: one 2x2 confusion matrix per label (rows gold no/yes, columns predicted no/yes), with the
    label's precision, recall and F1 in its panel's title; colour by the share of the gold row."""
    labels = list(matrices)
    columns = min(4, len(labels))
    rows = -(-len(labels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.9 * columns, 2.9 * rows), squeeze=False)
    for ax, label in zip(axes.flat, labels):
        counts = np.asarray(matrices[label])
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for i in range(2):
            for j in range(2):
                ax.text(j, i, f"{counts[i, j]}\n{share[i, j]:.0%}", ha="center", va="center", fontsize=9,
                        color="white" if share[i, j] > 0.5 else "black")
        ax.set_xticks([0, 1], ["no", "yes"])
        ax.set_yticks([0, 1], ["no", "yes"])
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        s = per_label[label]
        ax.set_title(f"{label}\nP {s['precision']:.2f}  R {s['recall']:.2f}  F1 {s['f1']:.2f}", fontsize=10)
    for ax in list(axes.flat)[len(labels):]:
        ax.axis("off")
    fig.suptitle("Per-label confusion (share of each gold row)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(bins: list[dict], ece: float, path: Path) -> None:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 6.5), height_ratios=[3, 1], sharex=True)
    centres = [(b["lower"] + b["upper"]) / 2 for b in bins]
    width = bins[0]["upper"] - bins[0]["lower"]
    filled = [b for b in bins if b["count"]]
    top.bar([(b["lower"] + b["upper"]) / 2 for b in filled], [b["accuracy"] for b in filled], width=width * 0.9,
            edgecolor="navy", color="cornflowerblue", label="accuracy in bin")
    top.plot([0, 1], [0, 1], "k--", label="perfect calibration")
    top.set_ylabel("accuracy")
    top.set_ylim(0, 1)
    top.set_title(f"Reliability diagram (ECE = {ece:.3f})")
    top.legend(loc="upper left")
    bottom.bar(centres, [b["count"] for b in bins], width=width * 0.9, color="grey")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("articles")
    bottom.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_errors(rows: list[dict], path: Path) -> None:
    fields = ["id", "source", "gold", "predicted", "confidence", "snippet"] + \
        (["why"] if any("why" in row for row in rows) else [])
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def write_markdown(metrics: dict, path: Path, title: str) -> None:
    model, baseline = metrics["model"], metrics.get("baseline")
    headline = [k for k in ("accuracy", "subset_accuracy", "macro_f1", "micro_f1", "weighted_f1", "hamming_loss",
                            "ece") if k in model]
    data = metrics["data"]
    parts = [f"# {title}", "",
             f"{data['articles']} test articles, {len(model['per_label'])} labels"
             f"{', multi-label' if metrics['multi_label'] else ''}.", ""]
    if data.get("dropped_by_label_map"):
        parts += [f"{data['dropped_by_label_map']} of the {data['read']} articles read were dropped by the label "
                  "mapping.", ""]
    if "duplicates" in data:
        dup = data["duplicates"]
        parts += [f"Exact duplicates (same normalised body): {dup['rows']} article(s) repeat another "
                  f"({dup['groups']} group(s), {dup['conflicting_label_groups']} with differing labels); "
                  "all are scored.", ""]
    if not metrics["multi_label"]:
        parts += ["Macro-F1 averages the gold labels; a prediction outside them counts against its article's "
                  "gold label.", ""]
    if baseline:
        parts += [f"TF-IDF + LinearSVC baseline: {baseline['trained_on']} ({baseline['train_articles']} articles"
                  + (f"; {data['also_in_baseline_training']} of the scored articles are among them"
                     if "also_in_baseline_training" in data else "") + ").", ""]
    elif "no_baseline" in metrics:
        parts += [f"No TF-IDF baseline: {metrics['no_baseline']}.", ""]
    parts += ["## Scores", ""]
    header = ["metric", "model"] + (["TF-IDF + LinearSVC baseline", "difference"] if baseline else [])
    rows = []
    for key in headline:
        row = [key, model[key]]
        if baseline:
            row += [baseline.get(key, "n/a"), model[key] - baseline[key] if key in baseline else "n/a"]
        rows.append(row)
    parts += [markdown_table(header, rows), "", "## Per label", ""]
    parts.append(markdown_table(["label", "precision", "recall", "F1", "support"] + (["baseline F1"] if baseline else []),
                        [[lab, s["precision"], s["recall"], s["f1"], s["support"]]
                         + ([baseline["per_label"].get(lab, {}).get("f1", "n/a")] if baseline else [])
                         for lab, s in model["per_label"].items()]))
    parts += ["", "## Confusion matrix", "", "![confusion matrix](confusion_matrix.png)", ""]
    if "ece" in model:
        parts += ["## Calibration", "", "![reliability diagram](reliability.png)", "",
                  f"Expected calibration error: {model['ece']:.4f} ({len(model['reliability'])} equal-width bins).",
                  ""]
    if len(model["per_source"]) > 1 or baseline:
        parts += ["## Per source", ""]
        accuracy = "subset_accuracy" if metrics["multi_label"] else "accuracy"
        parts.append(markdown_table(["source", "articles", accuracy, "macro-F1"] + (["baseline macro-F1"] if baseline else []),
                            [[src, s["articles"], s[accuracy], s["macro_f1"]]
                             + ([baseline["per_source"].get(src, {}).get("macro_f1", "n/a")] if baseline else [])
                             for src, s in model["per_source"].items()]))
        parts.append("")
    parts += ["## Top confusions", "", "All errors are in `errors.csv`."]
    if "explained_errors" in model:
        explained = model["explained_errors"]
        parts.append(f"Why: for {explained['explained']} of the {explained['errors']} errors (these examples "
                     "first), the sentence that raised each predicted label most and by how much (its probability "
                     f"with the sentence minus without; {explained['sentences_per_article']} sentences scored per "
                     "article at most), in `errors.csv` column `why`.")
    parts.append("")
    parts.append(markdown_table(["gold", "predicted", "count", "examples (id: start of text; why)"],
                        [[c["gold"], c["predicted"], c["count"],
                          "<br>".join(f"`{e['id']}`: {e['snippet'][:80]}" + (f"<br>*why:* {e['why'][:140]}"
                                                                             if e.get("why") else "")
                                      for e in c["examples"])]
                         for c in model["top_confusions"]]))
    stamp = metrics["stamp"]
    parts += ["", "## Reproducibility", "", markdown_table(["", ""], [
        ["command", f"`{stamp['command']}`"], ["model", f"{stamp['model']} (sha256 {stamp['model_sha256'][:16]}…)"],
        ["data", f"{stamp['data']} ({stamp['data_articles']} articles, sha256 {stamp['data_sha256'][:16]}…)"],
        ["split", stamp["split"]],
        ["versions", ", ".join(f"{k} {v}" for k, v in stamp["versions"].items())]]), ""]
    path.write_text("\n".join(parts), encoding="utf-8")
