"""`arabic-topics predict`: classify article files (or stdin, one article per line)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import transformers

from . import load
from .errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="text files, one article each; - reads "
                        "stdin, one article per line")
    parser.add_argument("--model", help="model directory (default: the installed default model)")
    parser.add_argument("--top-k", type=int, default=3, help="labels to show per article (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per article")
    parser.add_argument("--batch-size", type=int, default=32)


def read_inputs(files: list[str]) -> tuple[list[str], list[str]]:
    names, texts = [], []
    for name in files:
        if name == "-":
            for n, line in enumerate(sys.stdin, 1):
                if line.strip():
                    names.append(f"stdin:{n}")
                    texts.append(line.strip())
            continue
        path = Path(name)
        if not path.is_file():
            raise UserError(f"{name}: no such file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UserError(f"{name}: not UTF-8 text") from None
        if not text.strip():
            raise UserError(f"{name}: empty file")
        names.append(name)
        texts.append(text)
    if not texts:
        raise UserError("no input text")
    return names, texts


def run(args: argparse.Namespace) -> int:
    names, texts = read_inputs(args.files)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    classifier = load(args.model)
    results = classifier.predict(texts, top_k=args.top_k, batch_size=args.batch_size)
    if args.json:
        for name, result in zip(names, results):
            print(json.dumps({"input": name, **result}, ensure_ascii=False))
        return 0
    width = max(len(n) for n in names)
    print(f"{'input':<{width}}  {'label':<18} score   other labels")
    for name, result in zip(names, results):
        others = ", ".join(f"{lab} {result['scores'][lab]:.2f}" for lab in result["labels"] if lab != result["label"])
        print(f"{name:<{width}}  {result['label']:<18} {result['score']:.3f}   {others}")
    return 0
