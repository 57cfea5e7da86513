"""Corpus readers. Each returns a `datasets.Dataset` with columns id, text, title, label, source.

`label` is a string, or a list of strings for multi-label data. Formats:
- `ant`: ANT corpus files as published (<DOCNO>, <SRC>, <CAT>, <TITLE>, <TEXT> tags) in category folders;
- `folders`: a folder of category folders of plain .txt files (the SANAD layout);
- `table`: CSV / TSV / JSONL with configurable columns; a list or an "a|b" string label is multi-label.
A malformed file stops the read with its path: silently skipping files would change the data unseen.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset, Features, List, Value

from model import UserError
from model.batch_predict import table_records
from model.inputs import json_object

TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".json"}
ANT_TAG = re.compile(r"<(DOCNO|SRC|CAT|TITLE|ABSTRACT|TEXT)>(.*?)</\1>", re.S)


class CorpusError(UserError):
    """A corpus file that cannot be read as its format says."""


@dataclass
class TableColumns:
    text: str = "text"
    title: str | None = None
    label: str = "label"
    id: str | None = None
    source: str | None = None


def _features(multi_label: bool) -> Features:
    label = List(Value("string")) if multi_label else Value("string")
    return Features({"id": Value("string"), "text": Value("string"), "title": Value("string"),
                     "label": label, "source": Value("string")})


def _to_dataset(rows: list[dict], where: Path) -> Dataset:
    if not rows:
        raise CorpusError(f"{where}: no articles found")
    multi = any(isinstance(r["label"], list) for r in rows)
    if multi:
        for r in rows:
            r["label"] = r["label"] if isinstance(r["label"], list) else [r["label"]]
    return Dataset.from_list(rows, features=_features(multi))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorpusError(f"{path}: not UTF-8 text") from None


# ------------------------------------------------------------------------------------------------ ANT
def parse_ant_file(path: Path) -> dict:
    tags = {k: v.strip() for k, v in ANT_TAG.findall(_read_text(path))}
    if "TEXT" not in tags:
        raise CorpusError(f"{path}: malformed ANT file (no <TEXT>...</TEXT>)")
    # A few published articles have an empty <TEXT>; the abstract stands in, and hygiene drops any
    # article left without text (and counts it) rather than the reader guessing.
    # One published JawharaFM file lacks <CAT>: the layout <category>/<file> still says its label.
    return {"id": tags.get("DOCNO") or path.stem, "text": tags["TEXT"] or tags.get("ABSTRACT", ""),
            "title": tags.get("TITLE", ""), "label": tags.get("CAT") or path.parent.name,
            "source": tags.get("SRC") or path.parent.parent.name}


def article_files(root: Path) -> list[Path]:
    """The .txt files inside category folders; files beside them at the top (SOURCE.txt) are not articles."""
    root = Path(root)
    return sorted(p for p in root.rglob("*.txt") if p.parent != root)


def read_ant(root: Path) -> Dataset:
    return _to_dataset([parse_ant_file(p) for p in article_files(root)], root)


# ---------------------------------------------------------------------------------- category folders
def read_folders(root: Path) -> Dataset:
    root = Path(root)
    rows = []
    for category in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(category.glob("*.txt")):
            text = _read_text(path).strip()
            if not text:
                raise CorpusError(f"{path}: empty article")
            rows.append({"id": f"{category.name}/{path.stem}", "text": text, "title": "",
                         "label": category.name, "source": root.name})
    return _to_dataset(rows, root)


# ------------------------------------------------------------------------------------------- tables
def _split_label(value) -> str | list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    value = str(value).strip()
    return [v.strip() for v in value.split("|") if v.strip()] if "|" in value else value


COLUMN_OPTIONS = {"text": "--text-column", "label": "--label-column"}


def _table_records(path: Path, columns: TableColumns):
    """(line, row, {column: value}) of each article of a table file: the line it starts on, and its row as
    default ids count them (a JSONL file's line; a CSV / TSV record, the header being row 1). A CSV / TSV header
    must name the text and label columns, and a JSONL record hold them: the error names the columns found and
    the options that choose others."""
    needed = {"text": columns.text, "label": columns.label}

    def check(found, where: str, what: str) -> None:
        missing = [f"missing column {name!r} ({COLUMN_OPTIONS[role]})" for role, name in needed.items()
                   if name not in found]
        if missing:
            raise CorpusError(f"{where}: {' and '.join(missing)}; {what}: {', '.join(map(str, found)) or 'none'}")

    if path.suffix in (".jsonl", ".json"):
        # split on newlines only: str.splitlines() also breaks at U+2028 / U+0085, which JSON text may hold raw
        for n, line in enumerate(_read_text(path).split("\n"), 1):
            if line.strip():
                try:
                    record = json_object(line)
                except ValueError as exc:
                    raise CorpusError(f"{path}:{n}: {exc}") from None
                check(record, f"{path}:{n}", "the record has")
                yield n, n, record
        return
    try:
        records = table_records(path)
        _, header = next(records, (1, []))
        check(header, str(path), "the header has")
        for row, (n, fields) in enumerate(records, 2):
            if len(fields) > len(header):
                raise CorpusError(f"{path}:{n}: more fields than the header has")
            yield n, row, dict(zip(header, fields))
    except CorpusError:
        raise
    except UserError as exc:  # from the CSV / TSV reader: a quote never closed, not UTF-8
        raise CorpusError(str(exc)) from None


def read_table(path: Path, columns: TableColumns = TableColumns()) -> Dataset:
    path = Path(path)
    rows = []
    for n, row, record in _table_records(path, columns):
        for needed in (columns.text, columns.label):
            if record.get(needed) in (None, ""):
                raise CorpusError(f"{path}:{n}: empty {needed!r}")
        rows.append({
            "id": str(record[columns.id]) if columns.id else f"{path.stem}-{row}",
            "text": str(record[columns.text]),
            # a table's "title" column is read unless another one is named: titles carry much of the topic
            "title": str(record.get(columns.title or "title") or ""),
            "label": _split_label(record[columns.label]),
            "source": str(record.get(columns.source) or "") if columns.source else path.stem,
        })
    return _to_dataset(rows, path)


# ------------------------------------------------------------------------------------- auto-detect
def detect_format(path: Path) -> str:
    path = Path(path)
    if path.is_file():
        if path.suffix in TABLE_SUFFIXES:
            return "table"
        raise CorpusError(f"{path}: unknown corpus file type (expected .csv, .tsv or .jsonl)")
    if not path.is_dir():
        raise CorpusError(f"{path}: no such file or directory")
    first = next(iter(article_files(path)), None)
    if first is None:
        raise CorpusError(f"{path}: no .txt articles found")
    head = first.read_bytes()[:200].decode("utf-8", "ignore").lstrip("\ufeff \n")
    return "ant" if head.startswith("<DOC>") else "folders"


def read_corpus(path: str | Path, fmt: str = "auto", columns: TableColumns = TableColumns()) -> Dataset:
    """Read any supported corpus; `fmt` is auto, ant, folders or table."""
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "ant":
        return read_ant(path)
    if fmt == "folders":
        return read_folders(path)
    if fmt == "table":
        return read_table(path, columns)
    raise CorpusError(f"unknown corpus format {fmt!r} (use auto, ant, folders or table)")
