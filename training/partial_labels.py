"""Partial multi-label data: what each article's labels say, and what they leave unknown.

Most training articles carry only a section label; a few hundred also carry annotated labels (politics,
security, diplomacy). A section decides only the labels its mapping names (sport -> sports=1, economy=0,
...): an article filed under sport says nothing about security. Each article therefore gets `label` (its
positive labels) and `known` (the labels it decides, positive or negative). The loss ignores unknown
entries rather than reading them as 0, and so do the metrics.
"""
from __future__ import annotations

import json
from pathlib import Path

from datasets import Dataset, List, Value

from model import UserError
from model.inputs import json_object


def jsonl_records(path: str | Path, what: str):
    """(line number, JSON object) for each non-blank line of a small JSONL file; an unreadable file or line
    stops with one line naming it."""
    try:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read {what} ({exc.__class__.__name__})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json_object(line)
        except ValueError as exc:
            raise UserError(f"{path}:{n}: {exc}") from None
        yield n, record


def read_annotations(paths: str | Path | list) -> dict[str, dict[str, int]]:
    """JSONL files, one article per line: "id" plus 0/1 fields, one per label (other fields are ignored). An
    article annotated in several files gets the fields of all of them, the later file winning."""
    annotations: dict[str, dict[str, int]] = {}
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        found = 0
        for n, record in jsonl_records(path, "annotations"):
            if "id" not in record:
                raise UserError(f"{path}:{n}: no \"id\" field")
            annotations.setdefault(str(record["id"]), {}).update(
                {k: int(v) for k, v in record.items() if k != "id" and isinstance(v, (int, bool)) and v in (0, 1)})
            found += 1
        if not found:
            raise UserError(f"{path}: no annotations")
    return annotations


def read_ids(path: str | Path) -> list[str]:
    """A list of article ids: one per line, or the "id" field of JSONL lines."""
    try:
        lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read ids ({exc.__class__.__name__})") from None
    return [str(json.loads(line)["id"]) if line.startswith("{") else line for line in lines]


def attach(data: Dataset, decided: list[str], annotations: dict[str, dict[str, int]] | None = None) -> Dataset:
    """Add the `known` column and merge annotated labels into `label` (annotations win where both speak)."""
    annotations = annotations or {}
    labels, known = [], []
    for record_id, label in zip(data["id"], data["label"]):
        positives = set(label if isinstance(label, list) else [label])
        decides = set(decided)
        for name, value in annotations.get(record_id, {}).items():
            decides.add(name)
            (positives.add if value else positives.discard)(name)
        labels.append(sorted(positives))
        known.append(sorted(decides))
    features = data.features.copy()
    features["label"] = List(Value("string"))
    features["known"] = List(Value("string"))
    columns = {name: data[name] for name in data.column_names if name not in ("label", "known")}
    return Dataset.from_dict({**columns, "label": labels, "known": known}, features=features)


def first_copies(corpus: Dataset, ids) -> Dataset:
    """The corpus's first article of each id in `ids`, in corpus order (a corpus may repeat an article)."""
    seen, keep = set(), []
    for n, record_id in enumerate(corpus["id"]):
        if record_id in ids and record_id not in seen:
            seen.add(record_id)
            keep.append(n)
    return corpus.select(keep)


def label_matrices(labels_column, known_column, labels: list[str]):
    """(targets, mask) as float lists per article: mask 1 where the label is known."""
    targets = [[float(lab in set(row)) for lab in labels] for row in labels_column]
    mask = [[float(lab in set(row)) for lab in labels] for row in known_column]
    return targets, mask


def pseudo_label(data: Dataset, teacher) -> Dataset:
    """Fill the unknown labels of each article with a multi-label teacher's decisions (its tuned thresholds);
    known labels are never overwritten."""
    probs = teacher.predict_proba(list(data["text"]), list(data["title"]))
    thresholds = teacher.settings.threshold_vector(teacher.labels)
    labels, known = [], []
    for row, positives, decided in zip(probs, data["label"], data["known"]):
        positives, decided = set(positives), set(decided)
        for j, lab in enumerate(teacher.labels):
            if lab not in decided:
                decided.add(lab)
                if row[j] >= thresholds[j]:
                    positives.add(lab)
        labels.append(sorted(positives))
        known.append(sorted(decided))
    return data.remove_columns(["label", "known"]).add_column("label", labels, feature=List(Value("string"))) \
        .add_column("known", known, feature=List(Value("string")))
