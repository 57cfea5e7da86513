"""`arabic-topics predict`: classify article files (or stdin, one article per line)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NamedTuple

import transformers
import yaml

from . import batch_predict, delta, load
from .backends import BACKENDS
from .classifier import TFIDF_DIR, TOPIC_CONFIG, TopicClassifier
from .errors import UserError

# Files read as one article per row (by batch_predict's reader), with or without --out.
ROW_SUFFIXES = (".jsonl", *batch_predict.TABLE_DELIMITERS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="text files, one article each; .jsonl, .csv and "
                        ".tsv files, one article per row (id, text, title), as --out reads them; - reads stdin, "
                        "one article per line")
    parser.add_argument("--model", help="model directory (default: the installed default model)")
    parser.add_argument("--top-k", type=int, help=f"single-label models: labels to show per article (default "
                        f"{batch_predict.CLI_TOP_K}); multi-label models show every label that passes its threshold")
    parser.add_argument("--json", action="store_true", help="print one JSON object per article")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", metavar="FILE.jsonl", help="large corpora: read FILE as JSONL (id, text, title; "
                        "- is stdin), CSV / TSV or a directory of .txt files, append JSON lines to FILE.jsonl, and "
                        "on a rerun skip the ids already there (docs/batch-prediction.md)")
    parser.add_argument("--shard", metavar="I/N", help="with --out: classify only shard I of N (by a hash of "
                        "the id), so N processes or machines split a corpus")
    parser.add_argument("--backend", choices=BACKENDS, help="how the encoder runs (default: the fastest measured "
                        "on this kind of machine, see docs/benchmarks.md); onnx* export the model once to the cache")


class Item(NamedTuple):
    name: str  # what the output calls it: a file, stdin:LINE, or a row's id
    text: str | None = None
    title: str | None = None
    error: str | None = None  # why it cannot be classified


def read_inputs(files: list[str]) -> list[Item]:
    """Every article to classify: a file that cannot be read is an error for that file alone."""
    items = []
    for name in files:
        if name == "-":
            lines = [(n, line.strip()) for n, line in enumerate(sys.stdin, 1) if line.strip()]
            items += [Item(f"stdin:{n}", line) for n, line in lines] or [Item("stdin", error="no text on stdin")]
        elif Path(name).suffix.lower() in ROW_SUFFIXES and Path(name).is_file():
            items += _read_rows(name)
        else:
            items.append(Item(name, *_read_file(Path(name))))
    return items


def _read_rows(name: str) -> list[Item]:
    """The rows of a table file, read by the same reader as --out, so a file means the same either way."""
    try:
        articles = list(batch_predict.read_articles([name]))
    except UserError as exc:  # the file as a whole is unreadable: "NAME[:LINE]: why"
        where, _, why = str(exc).removeprefix(name).partition(": ")
        return [Item(name + where, error=why)]
    return [Item(str(a.id), a.text, a.title, a.error) for a in articles]


def _read_file(path: Path) -> tuple[str | None, None, str | None]:
    """(text, title, error) of a plain text file."""
    if path.is_dir():
        return None, None, "is a directory, not a text file"
    if not path.is_file():
        return None, None, "no such file"
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        return None, None, f"cannot read ({exc.strerror})"
    except UnicodeDecodeError as exc:
        return None, None, f"not UTF-8 text (invalid byte at offset {exc.start})"
    if not text.strip():
        return None, None, "empty file"
    return text, None, None


def run(args: argparse.Namespace) -> int:
    """Classify every readable input; each bad one gets one error line on stderr, and the exit status is 2
    when there was any, after the others' results are printed."""
    if args.out is not None or args.shard is not None:
        return batch_predict.run(args)
    items = read_inputs(args.files)
    good = [n for n, item in enumerate(items) if item.error is None]
    results = [{"error": item.error} for item in items]
    if good:
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        classifier = load(args.model, args.backend)
        predicted = classifier.predict([items[n].text for n in good], top_k=batch_predict.top_k_option(args, classifier),
                                       titles=[items[n].title for n in good], batch_size=args.batch_size)
        for n, result in zip(good, predicted):
            results[n] = result
    width = max(len(item.name) for item in items)
    if good and not args.json:
        print(f"{'input':<{width}}  {'label':<18} score   other labels")
    failed = False
    for item, result in zip(items, results):
        if "error" in result:
            print(f"arabic-topics: error: {item.name}: {result['error']}", file=sys.stderr)
            failed = True
            continue
        for warning in result["warnings"]:
            print(f"arabic-topics: warning: {item.name}: {warning}", file=sys.stderr)
        if args.json:
            print(json.dumps({"input": item.name, **result}, ensure_ascii=False))
        else:
            others = ", ".join(f"{lab} {result['scores'][lab]:.2f}" for lab in result["labels"]
                               if lab != result["label"])
            # A multi-label model may find no label that passes its threshold: "none", with the top probability.
            print(f"{item.name:<{width}}  {result['label'] or 'none':<18} {result['score']:.3f}   {others}")
    return 2 if failed else 0


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="trained model directory")
    parser.add_argument("--out", required=True, help="directory to write (replaced atomically if it exists)")
    parser.add_argument("--format", choices=["delta", "onnx"], default="delta",
                        help="delta: only the tensors training changed, rebuilt on the base at load time; "
                        "onnx: a graph for ONNX Runtime, which predict --model OUT runs")
    parser.add_argument("--int8", action="store_true", help="with --format onnx: dynamic int8 quantisation")
    parser.add_argument("--base", help="base encoder the model was trained from (default: from its "
                        "training_config.yaml)")


def run_export(args: argparse.Namespace) -> int:
    model_dir = Path(args.model)
    if args.int8 and args.format != "onnx":
        raise UserError("--int8 applies to --format onnx only")
    transformers.logging.set_verbosity_error()
    if args.format == "onnx":
        out = TopicClassifier.from_pretrained(model_dir, backend="fp32").save_onnx(Path(args.out), int8=args.int8)
        size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
        print(f"wrote {out} ({size:.1f} MB, ONNX{' int8' if args.int8 else ''})")
        return 0
    base = args.base
    if base is None and (model_dir / "training_config.yaml").is_file():
        base = yaml.safe_load((model_dir / "training_config.yaml").read_text(encoding="utf-8")).get("base")
    if not base:
        raise UserError(f"{model_dir}: no training_config.yaml names its base; pass --base")
    classifier = TopicClassifier.from_pretrained(model_dir)
    # what a model directory carries besides weights and reading settings, the blended TF-IDF model included
    extra = [model_dir / name for name in ("README.md", "metrics.json", "data_summary.json", "training_config.yaml",
                                           "label_map.yaml", "test_ids.txt", TFIDF_DIR)
             if (model_dir / name).exists()]
    out = delta.save_delta(classifier.model, (model_dir / TOPIC_CONFIG).read_text(), base, Path(args.out), extra)
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"wrote {out} ({size:.1f} MB, base {base})")
    return 0
