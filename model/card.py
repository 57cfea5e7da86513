"""The README.md model card written into every checkpoint, generated from what training recorded."""
from __future__ import annotations

from pathlib import Path

from .atomic import atomic_write_text


def markdown_table(header, rows) -> str:
    """A Markdown table; floats with 4 decimals, pipes and line breaks in cells escaped."""
    def cell(value):
        return f"{value:.4f}" if isinstance(value, float) else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


def baseline_line(metrics: dict, blended: bool = True) -> str:
    """blended: the directory still holds the blend training adopted (its settings' fusion)."""
    baseline = metrics.get("baseline", {})
    scores = [f"{s} {baseline[s]['macro_f1']:.4f}" for s in ("dev", "test") if s in baseline]
    if not scores:
        return "No TF-IDF baseline was trained beside this model."
    blend = metrics.get("fusion", {})
    if blend.get("adopted"):
        alone = metrics["transformer_alone"]
        scores_alone = ", ".join(f"{s} {alone[s]['macro_f1']:.4f}" for s in ("dev", "test") if s in alone)
        if not blended:
            return (f"Training adopted a TF-IDF blend (the figures above), which this directory leaves out: it "
                    f"reads with the transformer alone, macro-F1 {scores_alone}; the TF-IDF model alone: "
                    f"{', '.join(scores)}.")
        return (f"The model blends the transformer with that TF-IDF model (saved in tfidf/; weight "
                f"{blend['weight']:.2f} on the transformer, fitted on dev). The transformer alone, macro-F1: "
                f"{scores_alone}; the TF-IDF model alone: {', '.join(scores)}. A plain transformers loader "
                "(AutoModelForSequenceClassification) gives the transformer alone.")
    return (f"TF-IDF + LinearSVC baseline trained on the same {baseline['train_articles']} training articles, "
            f"macro-F1: {', '.join(scores)}.")


def loading_lines(load_path: str | None, light: bool) -> str:
    """How to load the model: from `load_path` (an absolute path, so the lines work from any directory); with
    no argument for the package's shipped model (None); or a folder inside the installed package, named
    relative to it (so that a committed card names no machine's directories)."""
    package = Path(__file__).parent
    imports = "from model import TopicClassifier"
    if load_path is None:
        where = ""
    elif Path(load_path).resolve().is_relative_to(package.resolve()):
        inside = Path(load_path).resolve().relative_to(package.resolve()).as_posix()
        imports = "from pathlib import Path\n\nimport model\n" + imports
        where = f'Path(model.__file__).parent / "{inside}"'
    else:
        where = repr(str(load_path)).replace("'", '"')
    code = f"""```python
{imports}
clf = TopicClassifier.from_pretrained({where})
clf.predict(["..."])
```"""
    if light:
        return code + """
A light directory: only the tensors training changed (`delta.safetensors`), rebuilt on its base encoder
(`delta.json` names it, with the checksum of its weights) by `TopicClassifier.from_pretrained`. Transformers'
`AutoModelForSequenceClassification` cannot open it alone;
`TopicClassifier.from_pretrained(..., backend="fp32").save_pretrained(OUT)` writes a full checkpoint that it can."""
    return code + f"""
It is also a plain transformers checkpoint; apply the normalisation and text prefix in `topic_config.json` to
match training:
```python
from transformers import AutoModelForSequenceClassification
model = AutoModelForSequenceClassification.from_pretrained({where})
```"""


def teaching_lines(config, summary: dict) -> str:
    """Where labels came from besides the corpus: annotations, a teacher's decisions, and how many dev
    articles decided each label (multi-label thresholds are tuned on those)."""
    lines = []
    if getattr(config, "annotations", None):
        lines.append(f"Annotated labels from {config.annotations} (the annotation wins where a section speaks too).")
    if getattr(config, "pseudo_labels_from", None):
        lines.append(f"Labels the data left unknown on training articles were filled with the decisions of the "
                     f"teacher model `{config.pseudo_labels_from}` (its thresholds), so they teach its reading.")
    if getattr(config, "distill_from", None):
        lines.append(f"Distilled from the teacher model `{config.distill_from}`: the training targets were "
                     f"{1 - config.distill_weight:g} x the gold labels + {config.distill_weight:g} x its probabilities.")
    known = summary.get("known_counts", {}).get("dev")
    if known:
        counts = ", ".join(f"{label} {n}" for label, n in sorted(known.items()))
        lines.append(f"Dev articles whose label is known (the per-label thresholds are tuned on these): {counts}.")
    return "\n".join(lines)


def reading_lines(settings) -> str:
    """What `label` is chosen among and who reads short texts, when the settings say (model/classifier.py)."""
    lines = []
    if settings.topics:
        residual = f", and {settings.residual_topic} when none of them fits" if settings.residual_topic else ""
        lines.append(f"`label` is the best of the topics {', '.join(settings.topics)}{residual}; `labels` holds "
                     "every label that passes its threshold.")
    if settings.second_model:
        lines.append(f"The model in `{settings.second_model}/` reads instead texts of up to "
                     f"{settings.second_model_tokens} tokens and texts whose two best topics lie less than "
                     f"{settings.second_model_margin:g} apart.")
    if settings.title_model:
        lines.append(f"For texts of up to {settings.second_model_tokens} tokens, the topic scores are the mean of "
                     f"that model's and the title model's in `{settings.title_model}/` (weight "
                     f"{settings.title_model_weight:g} on the title model), so `label` is the mean's best topic.")
    return "".join("\n" + line for line in lines)


def shipped_lines(metrics: dict) -> str:
    """The figures measured as predict runs the model (metrics.json "shipped_reading", written by
    docs/reports/fast/record_reading.py), before the training-time ones."""
    shipped = metrics.get("shipped_reading")
    if not shipped:
        return ""
    names = sorted(k for k, v in shipped["test"].items() if isinstance(v, float))
    return f"""## Metrics at the shipped reading
As `predict` runs it ({shipped['reading']}), {shipped['scored']} ({shipped['dev']['articles']} dev and
{shipped['test']['articles']} test articles):
{markdown_table(("metric", "dev", "test"), [(name, shipped["dev"][name], shipped["test"][name]) for name in names])}

"""


def write_model_card(directory: Path, config, summary: dict, metrics: dict, classifier,
                     load_path: str | None = "", light: bool = False) -> None:
    """load_path: where the loading lines point ("": the absolute path of `config.output_dir`; None: the
    shipped model, loaded with no argument); light: the directory is a delta over its base."""
    labels = classifier.labels
    counts = summary["label_counts"]
    dedup = summary["dedup"]
    if load_path == "":
        load_path = str(Path(config.output_dir).resolve())
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

Fine-tuned from `{config.base}`{f" (its first {config.num_layers} layers)" if getattr(config, "num_layers", None) else ""} by `arabic-news-topics` on `{summary['corpus']}`
({'multi-label' if classifier.settings.multi_label else 'single-label'}, {len(labels)} labels,
max length {config.max_length} tokens, {config.epochs:g} epochs, learning rate {config.learning_rate:g}, seed {config.seed}).

Predict reads {classifier.settings.max_length}-token windows, up to {classifier.settings.max_windows} per article (topic_config.json){f", on the {classifier.settings.backend} backend unless asked otherwise" if classifier.settings.backend else ""}.{reading_lines(classifier.settings)}

{loading_lines(load_path, light)}

{teaching_lines(config, summary)}

{shipped_lines(metrics)}## Metrics at training
As training scored the model (max length {config.max_length} tokens, PyTorch):
{markdown_table(("metric", *(s for s in ("dev", "test") if s in metrics)),
                [(name, *(metrics[s][name] for s in ("dev", "test") if s in metrics)) for name in score_names])}

{baseline_line(metrics, bool(classifier.settings.fusion))}

## Data
Split: {summary['split']['kind']} (seed {summary['split']['seed']}{', test sources ' + str(summary['split']['test_sources']) if summary['split']['test_sources'] else ''}):
train {summary['split']['train']}, dev {summary['split']['dev']}, test {summary['split']['test']} articles.

Hygiene: read {dedup['articles_read']} articles, removed {dedup['empty_removed']} empty and
{dedup['duplicates_removed']} exact duplicates; {dedup['conflicting_label_groups']} duplicate groups carried
conflicting labels (policy: {dedup['conflicting_policy']}).

{markdown_table(("label", "train", "dev", "test"),
                [(lab, counts['train'].get(lab, 0), counts['dev'].get(lab, 0), counts['test'].get(lab, 0)) for lab in labels])}

Sources: {', '.join(sorted({s for part in summary['sources'].values() for s in part}))}.
"""
    atomic_write_text(directory / "README.md", text)
