"""Data hygiene before any split: label mapping, empty-article and exact-duplicate removal, then splits.

Duplicates are found on normalised bodies, so the same article re-published with other diacritics or
spacing counts once. ANT has >1,000 bodies filed under two categories; keeping both copies would put the
same text in train and test with different labels.
"""
from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import yaml
from datasets import Dataset, DatasetDict, List, Value
from sklearn.model_selection import train_test_split

from model import UserError, normalize

log = logging.getLogger("arabic-topics")


# ------------------------------------------------------------------------------------ label mapping
class LabelMapping:
    """A YAML file that renames, merges or drops source labels into the user's taxonomy:

        labels:            # source label -> target label (two sources to one target merge them)
          internationalNews: world
          middleEast: world
        drop: [diverse]    # articles with these labels are removed
        none: [localNews]  # articles kept with none of the mapped labels (partial multi-label training: known 0)
        unmapped: keep     # keep | drop | error: what to do with labels listed nowhere
        display_names:     # optional, shown by predict
          world: العالم
    """

    def __init__(self, labels: dict | None = None, drop=(), unmapped: str = "keep", display_names=None, none=()):
        if unmapped not in ("keep", "drop", "error"):
            raise UserError(f"label mapping: unmapped must be keep, drop or error, not {unmapped!r}")
        self.labels = {str(k): str(v) for k, v in (labels or {}).items()}
        self.drop = {str(d) for d in drop}
        self.none = {str(n) for n in none}
        self.unmapped = unmapped
        self.display_names = dict(display_names or {})

    @classmethod
    def from_yaml(cls, path: str | Path) -> "LabelMapping":
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(f"{path}: cannot read label mapping ({exc.__class__.__name__})") from None
        unknown = set(data) - {"labels", "drop", "none", "unmapped", "display_names"}
        if not isinstance(data, dict) or unknown:
            raise UserError(f"{path}: unknown label-mapping keys: {', '.join(sorted(map(str, unknown)))}")
        return cls(data.get("labels"), data.get("drop", ()), data.get("unmapped", "keep"),
                   data.get("display_names"), data.get("none", ()))

    @property
    def targets(self) -> list[str]:
        """The labels this mapping decides (every article mapped by it is known positive or negative on them)."""
        return sorted(set(self.labels.values()))

    def map_one(self, label: str) -> str | None:
        if label in self.drop:
            return None
        if label in self.none:
            return ""
        if label in self.labels:
            return self.labels[label]
        if self.unmapped == "error":
            raise UserError(f"label mapping: source label {label!r} is neither mapped nor dropped")
        return label if self.unmapped == "keep" else None

    def apply(self, data: Dataset) -> Dataset:
        def mapped(example):
            label = example["label"]
            if self.none:  # "none" articles carry an empty label set: the task becomes multi-label
                label = label if isinstance(label, list) else [label]
                found = [m for m in map(self.map_one, label) if m is not None]
                return sorted(set(found) - {""}) if found else None
            if isinstance(label, list):
                return sorted({m for m in map(self.map_one, label) if m is not None})
            return self.map_one(label)

        present = {x for lab in data["label"] for x in (lab if isinstance(lab, list) else [lab])}
        unused = sorted((set(self.labels) | self.drop | self.none) - present)
        if unused:  # a typo in the mapping, or a recipe's mapping on part of its corpus
            log.warning("label mapping names %d label(s) the corpus does not have: %s", len(unused),
                        ", ".join(unused))
        new_labels = [mapped(ex) for ex in data]
        # An article the mapping left without labels is removed; one that came with an empty label list (a
        # multi-label article with none of the labels) stays: "none of them" is a real answer.
        came_empty = [isinstance(lab, list) and not lab for lab in data["label"]]
        keep = [i for i, lab in enumerate(new_labels) if lab is not None and (lab or self.none or came_empty[i])]
        data = data.select(keep)
        features = data.features.copy()
        if any(isinstance(new_labels[i], list) for i in keep[:1]):
            features["label"] = List(Value("string"))
        return data.map(lambda _, i: {"label": new_labels[keep[i]]}, with_indices=True, features=features)


def check_unique_ids(data: Dataset, where) -> None:
    """Annotations, test-id files and reports join on article ids: two different articles under one id
    would silently swap labels."""
    counts = Counter(data["id"])
    repeated = [i for i, n in counts.items() if n > 1]
    if repeated:
        raise UserError(f"{where}: {len(repeated)} article id(s) used by more than one different article "
                        f"(e.g. {repeated[0]!r}, {counts[repeated[0]]} times); ids must be unique")


def check_labels(splits, label_column: str | None = None) -> None:
    """Training needs two labels; a dev/test label that training never sees cannot be predicted, so it is
    logged and counted (those articles are left out of the dev/test scores during training). `label_column`:
    the table column the labels came from, named when every article carries the same one."""
    def flat(labels):
        return {x for lab in labels for x in (lab if isinstance(lab, list) else [lab])}

    seen = flat(splits["train"]["label"])
    if len(seen) < 2 and not isinstance(splits["train"][0]["label"], list):
        everywhere = set().union(*(flat(part["label"]) for part in splits.values()))
        if len(everywhere) < 2:
            column = f" (from column {label_column!r}; --label-column names another)" if label_column else ""
            raise UserError(f"training needs at least two labels; every article is labelled {sorted(seen)}{column}")
        raise UserError(f"training needs at least two labels; the training split has only {sorted(seen)}")
    for name in ("dev", "test"):
        unseen = flat(splits[name]["label"]) - seen
        if unseen:
            n = sum(1 for lab in splits[name]["label"] if flat([lab]) & unseen)
            log.warning("%s: %d article(s) carry label(s) absent from training: %s", name, n,
                        ", ".join(sorted(unseen)))


# ---------------------------------------------------------------------------------------- dedup
def body_key(text: str) -> str:
    return hashlib.sha1(normalize(text).encode("utf-8")).hexdigest()


def body_groups(texts) -> dict[str, list[int]]:
    """Row indices of the non-empty texts, grouped by normalised body: a group of several is exact copies."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        if text.strip():
            groups[body_key(text)].append(i)
    return groups


def _label_key(label) -> str:
    return "|".join(label) if isinstance(label, list) else label


def clean(data: Dataset, conflicts: str = "first") -> tuple[Dataset, dict]:
    """Drop empty articles and exact duplicate bodies. A group of duplicates keeps its first article;
    with conflicts="drop", groups whose copies carry different labels are removed entirely."""
    if conflicts not in ("first", "drop"):
        raise UserError(f"conflicts must be first or drop, not {conflicts!r}")
    empty = [data[i]["id"] for i, t in enumerate(data["text"]) if not t.strip()]
    groups = body_groups(data["text"])
    labels = data["label"]
    # Of a group of copies, keep the one that says most (partial labels: the annotated copy), else the first.
    known = [len(k) for k in data["known"]] if "known" in data.column_names else [0] * len(data)
    keep, dup_groups, conflicting = [], 0, []
    for members in groups.values():
        if len(members) > 1:
            dup_groups += 1
        distinct = sorted({_label_key(labels[i]) for i in members})
        if len(distinct) > 1:
            conflicting.append({"ids": [data[i]["id"] for i in members], "labels": distinct})
            if conflicts == "drop":
                continue
        keep.append(max(members, key=lambda i: (known[i], -i)))
    keep.sort()
    report = {
        "articles_read": len(data),
        "empty_removed": len(empty),
        "empty_ids": empty[:50],
        "duplicate_groups": dup_groups,
        "duplicates_removed": len(data) - len(empty) - len(groups),
        "conflicting_label_groups": len(conflicting),
        "conflicting_policy": conflicts,
        "conflicting_examples": conflicting[:20],
        # an empty label set (a multi-label article with none of the labels) is named "(none)"
        "conflicting_label_pairs": dict(Counter(" vs ".join(lab or "(none)" for lab in c["labels"])
                                                for c in conflicting).most_common()),
        "articles_kept": len(keep),
    }
    return data.select(keep), report


def remove_leaks(train: Dataset, given: dict[str, Dataset]) -> tuple[Dataset, dict]:
    """Official dev/test files stay whole (their scores must be comparable with published ones); an article of
    the training data whose body is also in one of them would be scored after being trained on, so it leaves
    training. Returns the training data without them and what was removed (saved in data_summary.json)."""
    held_out = {name: {body_key(t) for t in part["text"]} for name, part in given.items()}
    leaked: dict[str, list[str]] = {name: [] for name in given}
    keep = []
    for i, (key, article_id) in enumerate(zip(map(body_key, train["text"]), train["id"])):
        found = [name for name, keys in held_out.items() if key in keys]
        for name in found:
            leaked[name].append(article_id)
        if not found:
            keep.append(i)
    report = {"leaks_removed_from_train": len(train) - len(keep),
              "leaks": {name: {"count": len(ids), "train_ids": ids} for name, ids in leaked.items()},
              "duplicates_kept_within": {name: len(part) - len(held_out[name]) for name, part in given.items()},
              "articles": {name: len(part) for name, part in given.items()}}
    return train.select(keep), report


def format_leaks(report: dict) -> str:
    parts = ", ".join(f"{n['count']} also in {name}" for name, n in report["leaks"].items())
    kept = ", ".join(f"{name} {n} articles ({report['duplicates_kept_within'][name]} repeated inside, kept)"
                     for name, n in report["articles"].items())
    return (f"official files kept whole: {kept}; removed {report['leaks_removed_from_train']} training articles "
            f"({parts}) so that none is scored after being trained on")


def format_report(report: dict) -> str:
    lines = [f"read {report['articles_read']} articles; removed {report['empty_removed']} empty and "
             f"{report['duplicates_removed']} exact duplicates ({report['duplicate_groups']} groups); "
             f"kept {report['articles_kept']}",
             f"{report['conflicting_label_groups']} duplicate groups carried conflicting labels "
             f"(policy: {report['conflicting_policy']})"]
    lines += [f"  {pair}: {n}" for pair, n in list(report["conflicting_label_pairs"].items())[:8]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- splits
def split_indices(indices: np.ndarray, labels, size: float | int, seed: int, part: str = "test"):
    """Split `indices` into (rest, taken), `size` being a fraction or a count of the taken part, stratified on
    the label (or label combination) when every stratum can be represented, else plain random. A split that
    would leave nothing to train on is refused, naming `part` (test or dev) and its option."""
    n_taken = size if isinstance(size, int) else int(np.ceil(size * len(indices)))
    if n_taken <= 0:
        return indices, indices[:0]
    if n_taken >= len(indices):
        raise UserError(f"too few articles for the splits asked: {part} takes {n_taken} of the {len(indices)} "
                        f"left, so none remains to train on; give more data or a smaller --{part}-size")
    keys = [_label_key(labels[i]) for i in indices]
    counts = Counter(keys)
    stratifiable = min(counts.values()) >= 2 and len(counts) <= min(n_taken, len(indices) - n_taken)
    return train_test_split(indices, test_size=n_taken, random_state=seed,
                            stratify=keys if stratifiable else None)


def random_split(data: Dataset, dev_size: float = 0.1, test_size: float = 0.1, seed: int = 0,
                 test_ids: list[str] | None = None) -> DatasetDict:
    """Stratified, seeded train/dev/test split. `test_ids` (an annotated test set committed with a recipe) go to
    test on top of the random part, so one model can be scored on both without having trained on either."""
    if dev_size + test_size >= 1:
        raise UserError(f"--dev-size {dev_size:g} and --test-size {test_size:g} leave nothing to train on")
    labels = data["label"]
    fixed = _fixed_test(data, test_ids or [])
    rest, test = split_indices(np.flatnonzero(~fixed), labels, test_size, seed)
    train, dev = split_indices(rest, labels, dev_size / (1 - test_size), seed, "dev")
    return DatasetDict(train=data.select(sorted(train)), dev=data.select(sorted(dev)),
                       test=data.select(sorted([*test, *np.flatnonzero(fixed)])))


def _fixed_test(data: Dataset, test_ids: list[str]) -> np.ndarray:
    wanted = set(test_ids)
    is_test = np.array([i in wanted for i in data["id"]], dtype=bool)
    if is_test.sum() < len(wanted):
        raise UserError(f"{len(wanted) - int(is_test.sum())} of the {len(wanted)} test ids are not in the corpus "
                        "(or were removed as empty or duplicate)")
    return is_test


def ids_split(data: Dataset, test_ids: list[str], dev_size: float = 0.1, seed: int = 0) -> DatasetDict:
    """A fixed test split given by article ids (committed with the recipe); dev is stratified from the rest."""
    is_test = _fixed_test(data, test_ids)
    train, dev = split_indices(np.flatnonzero(~is_test), data["label"], dev_size, seed, "dev")
    return DatasetDict(train=data.select(sorted(train)), dev=data.select(sorted(dev)),
                       test=data.select(np.flatnonzero(is_test)))


def source_split(data: Dataset, test_sources: list[str], dev_size: float = 0.1, seed: int = 0) -> DatasetDict:
    """Hold out whole outlets as the test split; dev is a stratified sample of the remaining outlets."""
    wanted = {s.lower() for s in test_sources}
    present = {s.lower() for s in data["source"]}
    missing = wanted - present
    if missing:
        raise UserError(f"test sources not in the corpus: {', '.join(sorted(missing))} "
                        f"(sources: {', '.join(sorted(present))})")
    is_test = np.array([s.lower() in wanted for s in data["source"]])
    train, dev = split_indices(np.flatnonzero(~is_test), data["label"], dev_size, seed, "dev")
    return DatasetDict(train=data.select(sorted(train)), dev=data.select(sorted(dev)),
                       test=data.select(np.flatnonzero(is_test)))
