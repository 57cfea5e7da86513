"""The README.md model card written into every checkpoint, generated from what training recorded."""
from __future__ import annotations

from pathlib import Path


def _table(rows: list[tuple], header: tuple) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def baseline_line(metrics: dict) -> str:
    baseline = metrics.get("baseline", {})
    scores = [f"{s} {baseline[s]['macro_f1']:.4f}" for s in ("dev", "test") if s in baseline]
    if not scores:
        return "No TF-IDF baseline was trained beside this model."
    blend = metrics.get("fusion", {})
    if blend.get("adopted"):
        alone = metrics["transformer_alone"]
        scores_alone = ", ".join(f"{s} {alone[s]['macro_f1']:.4f}" for s in ("dev", "test") if s in alone)
        return (f"The model blends the transformer with that TF-IDF model (saved in tfidf/; weight "
                f"{blend['weight']:.2f} on the transformer, fitted on dev). The transformer alone, macro-F1: "
                f"{scores_alone}; the TF-IDF model alone: {', '.join(scores)}. A plain transformers loader "
                "(AutoModelForSequenceClassification) gives the transformer alone.")
    return (f"TF-IDF + LinearSVC baseline trained on the same {baseline['train_articles']} training articles, "
            f"macro-F1: {', '.join(scores)}.")


def write_model_card(directory: Path, config, summary: dict, metrics: dict, classifier) -> None:
    labels = classifier.labels
    counts = summary["label_counts"]
    dedup = summary["dedup"]
    # Scalar scores only: multi-label runs also record per-label thresholds and counts (dicts).
    score_names = sorted({k for split in ("dev", "test") if split in metrics
                          for k, v in metrics[split].items() if isinstance(v, (int, float))})
    text = f"""---
library_name: transformers
pipeline_tag: text-classification
language: ar
tags: [arabic, news, topic-classification, arabic-news-topics]
---
# Arabic news topic classifier

Fine-tuned from `{config.base}` by `arabic-news-topics` on `{summary['corpus']}`
({'multi-label' if classifier.settings.multi_label else 'single-label'}, {len(labels)} labels,
max length {config.max_length} tokens, {config.epochs:g} epochs, learning rate {config.learning_rate:g}, seed {config.seed}).

```python
from model import TopicClassifier
clf = TopicClassifier.from_pretrained("{directory.name if directory.name != '.saving' else Path(config.output_dir).name}")
clf.predict(["..."])
```
The directory is also a plain transformers checkpoint (`AutoModelForSequenceClassification.from_pretrained`);
apply the normalisation and text prefix in `topic_config.json` to match training.

## Metrics
{_table([(name, *(f"{metrics[s][name]:.4f}" for s in ("dev", "test") if s in metrics)) for name in score_names],
        ("metric", *(s for s in ("dev", "test") if s in metrics)))}

{baseline_line(metrics)}

## Data
Split: {summary['split']['kind']} (seed {summary['split']['seed']}{', test sources ' + str(summary['split']['test_sources']) if summary['split']['test_sources'] else ''}):
train {summary['split']['train']}, dev {summary['split']['dev']}, test {summary['split']['test']} articles.

Hygiene: read {dedup['articles_read']} articles, removed {dedup['empty_removed']} empty and
{dedup['duplicates_removed']} exact duplicates; {dedup['conflicting_label_groups']} duplicate groups carried
conflicting labels (policy: {dedup['conflicting_policy']}).

{_table([(lab, counts['train'].get(lab, 0), counts['dev'].get(lab, 0), counts['test'].get(lab, 0)) for lab in labels],
        ("label", "train", "dev", "test"))}

Sources: {', '.join(sorted({s for part in summary['sources'].values() for s in part}))}.
"""
    (directory / "README.md").write_text(text, encoding="utf-8")
