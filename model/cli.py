"""`arabic-topics predict`: classify article files (or stdin, one article per line)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import transformers
import yaml

from . import delta, load
from .classifier import TOPIC_CONFIG, TopicClassifier
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


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="trained model directory")
    parser.add_argument("--out", required=True, help="directory to write (replaced atomically if it exists)")
    parser.add_argument("--format", choices=["delta"], default="delta",
                        help="delta: only the tensors training changed, rebuilt on the base at load time")
    parser.add_argument("--base", help="base encoder the model was trained from (default: from its "
                        "training_config.yaml)")


def run_export(args: argparse.Namespace) -> int:
    model_dir = Path(args.model)
    base = args.base
    if base is None and (model_dir / "training_config.yaml").is_file():
        base = yaml.safe_load((model_dir / "training_config.yaml").read_text(encoding="utf-8")).get("base")
    if not base:
        raise UserError(f"{model_dir}: no training_config.yaml names its base; pass --base")
    transformers.logging.set_verbosity_error()
    classifier = TopicClassifier.from_pretrained(model_dir)
    extra = [model_dir / name for name in ("README.md", "metrics.json", "data_summary.json", "training_config.yaml")
             if (model_dir / name).is_file()]
    out = delta.save_delta(classifier.model, (model_dir / TOPIC_CONFIG).read_text(), base, Path(args.out), extra)
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"wrote {out} ({size:.1f} MB, base {base})")
    return 0
