"""`arabic-topics predict`: classify article files (or stdin, one article per line)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NamedTuple

from . import batch_predict, load
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
    parser.add_argument("--backend", choices=BACKENDS, help="how the encoder runs (default: the model's own "
                        "measured choice, else the machine's, see docs/benchmarks.md); onnx* export the model once "
                        "to the cache")
    parser.add_argument("--explain", action="store_true", help="under each label, the sentences that raise its "
                        "probability most, with their effect (with --json: an \"explanations\" list per label)")
    parser.add_argument("--top-n", type=int, default=3, help="with --explain: sentences per label (default 3)")
    parser.add_argument("--max-sentences", type=int, default=40, help="with --explain: sentences scored per "
                        "article at most, one forward pass each (default 40)")


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
        if args.explain:
            raise UserError("--explain prints explanations for a few articles; it does not combine with --out")
        return batch_predict.run(args)
    if args.explain and (args.top_n < 1 or args.max_sentences < 1):
        raise UserError("--top-n and --max-sentences must be at least 1")
    items = read_inputs(args.files)
    good = [n for n, item in enumerate(items) if item.error is None]
    results = [{"error": item.error} for item in items]
    if good:
        classifier = load(args.model, args.backend)
        top_k = batch_predict.top_k_option(args, classifier)
        if args.explain:
            predicted = [classifier.explain(items[n].text, items[n].title, top_n=args.top_n,
                                            max_sentences=args.max_sentences, batch_size=args.batch_size)
                         for n in good]
        else:
            predicted = classifier.predict([items[n].text for n in good], top_k=top_k,
                                           titles=[items[n].title for n in good], batch_size=args.batch_size)
        for n, result in zip(good, predicted):
            results[n] = result
    width = max(len(item.name) for item in items)
    if good and not args.json:
        print(f"{'input':<{width}}  {'label':<26} score   other labels")
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
            others = ", ".join(f"{lab} {result['scores'][lab]:.3f}" for lab in result["labels"]
                               if lab != result["label"])
            # The best topic is always shown; one that does not pass its own threshold says so.
            shown = result["label"] + (" (low confidence)" if result["low_confidence"] else "")
            print(f"{item.name:<{width}}  {shown:<26} {result['score']:.3f}   {others}")
            if "explanations" in result:
                print_explanations(result)
    return 2 if failed else 0


def print_explanations(result: dict, width: int = 100) -> None:
    """Under each label, its top sentences trimmed to `width` characters, each with its effect."""
    for label, sentences in result["explanations"].items():
        print(f"  {label} {result['scores'][label]:.3f}, because of:")
        for item in sentences:
            sentence = " ".join(item["sentence"].split())
            shown = sentence if len(sentence) <= width else sentence[: width - 1] + "…"
            print(f"    {item['effect']:+.3f}  {shown}")
    print(f"  ({result['note']})")


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="trained model directory")
    parser.add_argument("--out", required=True, help="directory to write (replaced atomically if it exists; the "
                        "model folders in it, such as teacher/ and titles/, are kept)")
    parser.add_argument("--format", choices=["delta", "onnx"], default="delta",
                        help="delta: only the tensors training changed, rebuilt on the base at load time; "
                        "onnx: a graph for ONNX Runtime, which predict --model OUT runs")
    parser.add_argument("--int8", action="store_true", help="with --format onnx: dynamic int8 quantisation")
    parser.add_argument("--base", help="base encoder the model was trained from (default: from its "
                        "training_config.yaml)")


def run_export(args: argparse.Namespace) -> int:
    import yaml

    from . import delta

    model_dir = Path(args.model)
    if args.int8 and args.format != "onnx":
        raise UserError("--int8 applies to --format onnx only")
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
    classifier = TopicClassifier.from_pretrained(model_dir, backend="fp32")  # the PyTorch weights, whatever it runs on
    # what a model directory carries besides weights and reading settings, the blended TF-IDF model included
    extra = [model_dir / name for name in ("README.md", "metrics.json", "data_summary.json", "training_config.yaml",
                                           "label_map.yaml", "test_ids.txt", TFIDF_DIR)
             if (model_dir / name).exists()]
    # a fast model replacing one in place keeps the models beside it (the shipped one's teacher/ and titles/)
    if Path(args.out).is_dir():
        extra += sorted(folder for folder in Path(args.out).iterdir()
                        if folder.is_dir() and folder.name != TFIDF_DIR and (folder / "config.json").is_file())
    out = delta.save_delta(classifier.model, (model_dir / TOPIC_CONFIG).read_text(), base, Path(args.out), extra)
    rewrite_card(out, classifier)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file()) / 1e6
    print(f"wrote {out} ({size:.1f} MB, base {base})")
    return 0


def rewrite_card(out: Path, classifier: TopicClassifier) -> None:
    """The exported directory's model card, from the training facts it carries: it loads as a light directory,
    from its own path (or with no argument when it is the package's shipped model)."""
    import types

    import yaml

    from . import default_model_dir
    from .card import write_model_card

    files = {name: out / name for name in ("training_config.yaml", "metrics.json", "data_summary.json")}
    if not all(path.is_file() for path in files.values()):
        return
    config = types.SimpleNamespace(**yaml.safe_load(files["training_config.yaml"].read_text(encoding="utf-8")))
    try:
        shipped = out.resolve() == default_model_dir().resolve()
    except UserError:
        shipped = False
    write_model_card(out, config, json.loads(files["data_summary.json"].read_text(encoding="utf-8")),
                     json.loads(files["metrics.json"].read_text(encoding="utf-8")), classifier,
                     load_path=None if shipped else str(out.resolve()), light=True)
