"""Batch prediction over a corpus too large to hold in memory: `arabic-topics predict --out FILE.jsonl`.

Articles are read one at a time (a JSONL file, stdin, or a directory of .txt files) and classified in
batches; each batch is appended to the output as JSON lines, flushed and fsync'd, so a killed run loses at
most the batch in flight. Rerunning the same command reads the ids already in the output, drops a torn last
line and classifies only the rest: the finished file holds every id once. `--shard i/n` keeps the articles
whose id hashes to i (crc32 of the id, mod n), so n processes or machines split a corpus without talking to
each other, and the union of their outputs is the corpus. See docs/batch-prediction.md.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import json
import os
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from tqdm import tqdm

from . import load
from .classifier import TopicClassifier
from .errors import UserError
from .inputs import json_object

# Every record this module writes starts so; a torn last line is recognised (and dropped) by it, and an
# output file whose last line is anything else is not ours to cut.
RECORD_START = b'{"id": '
INPUT_FORMS = ("articles are read from JSONL files (one {\"id\", \"text\", \"title\"} object a line), CSV or TSV "
               "files (.csv, .tsv: a header with text and optionally id and title) or directories of .txt files")
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}
# Labels per article a single-label model shows when --top-k is not given (the Python API's default is 1).
CLI_TOP_K = 3


class Article(NamedTuple):
    id: str | int
    text: str | None = None
    title: str | None = None
    error: str | None = None  # why it cannot be classified: a bad JSONL line, an unreadable file
    path: Path | None = None  # a .txt file, read only when this run classifies the article


@dataclass
class Summary:
    written: int = 0  # records appended by this run, errors included
    errors: int = 0  # error records appended by this run
    already_done: int = 0  # articles whose id was in the output when the run started
    duplicates: int = 0  # articles whose id came earlier in this run's input (the first one is kept)
    errors_in_file: int = 0  # error records in the whole output, earlier runs' included


# ------------------------------------------------------------------------------------------ sharding
def parse_shard(text: str) -> tuple[int, int]:
    """`i/n` -> (i, n), with 0 <= i < n."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise UserError(f"--shard {text}: expected i/n, e.g. 0/4 for the first of 4 shards")
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise UserError(f"--shard {text}: n, the number of shards, must be at least 1")
    if index >= count:
        raise UserError(f"--shard {text}: i must be below n (the {count} shards are numbered 0 to {count - 1})")
    return index, count


def shard_of(article_id: str | int, count: int) -> int:
    """The shard an id belongs to: the same on every machine and every run, whatever the corpus order."""
    return zlib.crc32(str(article_id).encode("utf-8")) % count


# -------------------------------------------------------------------------------------------- inputs
def read_articles(names: Iterable[str]) -> Iterator[Article]:
    """The articles of each input in turn. A missing input is refused before any is read; a single bad line
    or file becomes an article with an error."""
    names = list(names)
    for name in names:
        if name != "-" and not os.path.exists(name):
            raise UserError(f"{name}: no such file or directory")
    return (article for name in names for article in _input_articles(name))


def _input_articles(name: str) -> Iterator[Article]:
    if name != "-" and os.path.isdir(name):
        return _directory_articles(Path(name))
    if name != "-" and Path(name).suffix.lower() in TABLE_DELIMITERS:
        return _table_articles(Path(name))
    return _jsonl_articles(name)


def _jsonl_articles(name: str) -> Iterator[Article]:
    label = "stdin" if name == "-" else name
    with contextlib.nullcontext(sys.stdin.buffer) if name == "-" else open(name, "rb") as stream:
        seen = 0
        for number, raw in enumerate(stream, 1):  # bytes: one line that is not UTF-8 spoils only itself
            if not raw.strip():
                continue
            where = f"{label}:{number}"
            try:
                record = _json_object(raw)
            except ValueError as exc:
                if not seen:  # the first line already is not JSONL: the file is something else
                    raise UserError(f"{where}: {exc}; {INPUT_FORMS}") from None
                yield Article(where, error=str(exc))
                continue
            seen += 1
            yield _article(record, where)
    if not seen:
        raise UserError(f"{label}: no articles")


def _json_object(raw: bytes) -> dict:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (invalid byte at offset {exc.start})") from None
    return json_object(line)


def _article(record: dict, where: str) -> Article:
    """An article from one JSONL object; `where` (file:line) names it when it has no usable id."""
    ident = record.get("id")
    if isinstance(ident, bool) or not isinstance(ident, (str, int)) or ident == "":
        return Article(where, error='no "id" (a string or an integer)')
    if "text" not in record:
        return Article(ident, error='no "text"')
    title = record.get("title")
    if title is not None and not isinstance(title, str):
        return Article(ident, error=f'"title" is {type(title).__name__}, not text')
    return Article(ident, record["text"], title)  # a text that is not a str: predict says why per article


def table_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, its fields) of each record of a CSV / TSV file, the header first; blank lines
    are skipped. Quoting is strict: a quote left open is an error naming the line its record starts on, not a
    field that silently swallows the rest of the file. Fields may be as long as an article (the csv module's
    default limit is 128 KiB). Shared by `arabic-topics train` (training/corpus.py) and predict."""
    limit = csv.field_size_limit(2**31 - 1)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=TABLE_DELIMITERS[path.suffix.lower()], strict=True)
            start = 1
            try:
                for fields in reader:
                    if fields:
                        yield start, fields
                    start = reader.line_num + 1
            except csv.Error as exc:
                why = str(exc)
                if why == "unexpected end of data":  # what strict quoting says of a quote still open at the end
                    why = "a quote opened in the row starting here is never closed"
                raise UserError(f"{path}:{start}: not {path.suffix[1:].upper()} ({why})") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 (invalid byte at offset {exc.start})") from None
    finally:
        csv.field_size_limit(limit)


def _table_articles(path: Path) -> Iterator[Article]:
    """The rows of a CSV / TSV file, read as JSONL lines are: columns text and optionally id and title (others
    are ignored). A row is named by its id, else by the line it starts on (a file without an id column: every
    row), which stays the same on every run, so an interrupted --out run resumes."""
    records = table_records(path)
    _, header = next(records, (1, []))
    if "text" not in header:
        raise UserError(f"{path}: no text column in its header (columns found: {', '.join(header) or 'none'}); "
                        f"{INPUT_FORMS}")
    seen = 0
    for line, fields in records:
        seen += 1
        where = f"{path}:{line}"
        if len(fields) > len(header):
            yield Article(where, error="more fields than the header has")
            continue
        # A short row leaves its last columns out: absent, as a missing JSONL key is.
        row = dict(zip(header, fields))
        yield _article(row if "id" in header else {**row, "id": where}, where)
    if not seen:
        raise UserError(f"{path}: no articles")


def _directory_articles(root: Path) -> Iterator[Article]:
    """Every .txt file below `root`, in sorted order; its id is its path relative to `root`."""
    def unreadable(exc: OSError):
        raise UserError(f"{exc.filename}: cannot list ({exc.strerror})")  # skipping would lose articles unseen

    found = 0
    for folder, subfolders, files in os.walk(root, onerror=unreadable):
        subfolders.sort()
        for name in sorted(files):
            if name.endswith(".txt"):
                found += 1
                path = Path(folder, name)
                yield Article(path.relative_to(root).as_posix(), path=path)
    if not found:
        raise UserError(f"{root}: no .txt files")


def _read_text_file(article: Article) -> Article:
    try:
        return article._replace(text=article.path.read_bytes().decode("utf-8"))
    except OSError as exc:
        return article._replace(error=f"cannot read ({exc.strerror})")
    except UnicodeDecodeError as exc:
        return article._replace(error=f"not UTF-8 text (invalid byte at offset {exc.start})")


# -------------------------------------------------------------------------------------------- output
@contextlib.contextmanager
def _open_output(out: Path):
    """(file open for appending, {id: True} of the records already in it, how many of them are errors).
    A torn last line left by a kill is cut off; a file that holds anything but our records is refused."""
    if out.is_dir():
        raise UserError(f"--out {out}: is a directory; name a .jsonl file")
    created = not out.exists()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle = open(out, "a+b")
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write ({exc.strerror})") from None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # two writers would interleave lines; each shard needs its own file
            raise UserError(f"--out {out}: another process is writing it (give each shard its own --out)") from None
        try:
            done, errors = _done_records(handle, out)
            yield handle, done, errors
        except BaseException:
            if created and os.fstat(handle.fileno()).st_size == 0:
                out.unlink()  # nothing was written: leave no empty file behind a failed start
            raise


def _done_records(handle, out: Path) -> tuple[dict[str, bool], int]:
    handle.seek(0)
    done, errors, complete = {}, 0, 0
    for number, line in enumerate(handle, 1):
        if not line.endswith(b"\n"):
            if not (line.startswith(RECORD_START) or RECORD_START.startswith(line)):
                raise _not_ours(out, number)
            handle.truncate(complete)  # torn by a kill mid-write: that batch was never complete
            os.fsync(handle.fileno())
            break
        if line.strip():
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or "id" not in record:
                raise _not_ours(out, number)
            done[str(record["id"])] = True
            errors += "error" in record
        complete += len(line)
    return done, errors


def _not_ours(out: Path, number: int) -> UserError:
    return UserError(f"--out {out}: line {number} is not a prediction record, so the file is left as it is "
                     "(name a new file, or the output of an earlier run of this command)")


# ------------------------------------------------------------------------------------------- predict
def predict_corpus(classifier: TopicClassifier, articles: Iterable, out: str | Path, shard: tuple[int, int] = (0, 1),
                   batch_size: int = 32, top_k: int | None = None, progress: bool = False) -> Summary:
    """Classify the articles of `shard` (i, n) whose ids are not yet in `out`, appending one JSON line per
    article: {"id", "label", "score", "labels", "scores", "warnings"} as TopicClassifier.predict gives, or
    {"id", "error"}. `articles` yields Article or (id, text, title) tuples and is read once, lazily."""
    index, count = shard
    if not 0 <= index < count:
        raise UserError(f"shard {index}/{count}: needs 0 <= i < n")
    if batch_size < 1:
        raise UserError(f"--batch-size {batch_size}: needs at least 1")
    out = Path(out)
    summary = Summary()
    with _open_output(out) as (handle, seen, earlier_errors):
        summary.errors_in_file = earlier_errors
        bar = tqdm(desc=f"{out.name} (shard {index}/{count})", unit=" articles", file=sys.stderr,
                   disable=None if progress else True)
        batch: list[Article] = []
        try:
            for article in articles:
                article = Article(*article)
                key = str(article.id)
                if shard_of(key, count) != index:
                    continue
                if key in seen:
                    if seen[key]:
                        summary.already_done += 1
                    else:
                        summary.duplicates += 1
                    continue
                seen[key] = False  # False: first met in this run
                batch.append(article)
                if len(batch) == batch_size:
                    _write_batch(classifier, batch, handle, top_k, batch_size, summary)
                    bar.update(len(batch))
                    batch = []
            if batch:
                _write_batch(classifier, batch, handle, top_k, batch_size, summary)
                bar.update(len(batch))
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"interrupted: the predictions written so far are kept in {out}; run the "
                                    "same command again to finish it") from None
        finally:
            bar.close()
    summary.errors_in_file += summary.errors
    return summary


def _write_batch(classifier: TopicClassifier, batch: list[Article], handle, top_k: int | None, batch_size: int,
                 summary: Summary) -> None:
    batch = [_read_text_file(a) if a.path is not None and a.error is None else a for a in batch]
    good = [a for a in batch if a.error is None]
    results = iter(classifier.predict([a.text for a in good], top_k=top_k, titles=[a.title for a in good],
                                      batch_size=batch_size) if good else [])
    lines = []
    for article in batch:
        result = {"error": article.error} if article.error is not None else next(results)
        summary.errors += "error" in result
        lines.append(json.dumps({"id": article.id, **result}, ensure_ascii=False) + "\n")
    # A kill mid-write can leave part of this batch: its complete lines count as done on resume, a torn
    # last line is cut off (_done_records) and its article classified again.
    handle.write("".join(lines).encode("utf-8"))
    handle.flush()
    os.fsync(handle.fileno())
    summary.written += len(lines)


# ----------------------------------------------------------------------------------------------- CLI
def top_k_option(args: argparse.Namespace, classifier: TopicClassifier) -> int | None:
    """--top-k as TopicClassifier.predict takes it. A multi-label model's labels are decided by thresholds,
    so --top-k is refused for it rather than silently ignored."""
    if classifier.settings.multi_label:
        if args.top_k is not None:
            raise UserError("--top-k applies to single-label models; this multi-label model shows every label "
                            "that passes its threshold")
        return None
    return CLI_TOP_K if args.top_k is None else args.top_k


def run(args: argparse.Namespace) -> int:
    """`arabic-topics predict INPUT... --out FILE.jsonl [--shard i/n]`. Exit status 2 when the finished
    output holds error records (their reasons are in the file), as predict does for bad inputs."""
    if args.out is None:
        raise UserError("--shard needs --out FILE.jsonl (sharded prediction writes to a file)")
    shard = parse_shard(args.shard) if args.shard is not None else (0, 1)
    out = Path(args.out)
    for name in args.files:
        if name != "-" and out.exists() and os.path.exists(name) and os.path.samefile(name, out):
            raise UserError(f"--out {out}: is also an input; name a new file")
    articles = read_articles(args.files)
    classifier = load(args.model, args.backend)
    summary = predict_corpus(classifier, articles, out, shard, batch_size=args.batch_size,
                             top_k=top_k_option(args, classifier), progress=True)
    duplicates = f", skipped as duplicate ids {summary.duplicates}" if summary.duplicates else ""
    print(f"{out}: written {summary.written}, skipped as already done {summary.already_done}, "
          f"errors {summary.errors}{duplicates}")
    if summary.errors_in_file:
        print(f"arabic-topics: error: {out}: {summary.errors_in_file} articles could not be classified (their "
              "lines have an \"error\"); all others are done", file=sys.stderr)
        return 2
    return 0
