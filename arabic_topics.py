"""The `arabic-topics` command: one subcommand per job, each in the package that does it. A subcommand's
module is imported only when it runs, so `arabic-topics predict` loads model/ alone (no training or
evaluation code, no datasets or scikit-learn) and starts at import speed.

    arabic-topics predict article.txt
    python -m arabic_topics train --data corpus/ --output-dir runs/mine
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import NamedTuple

from model.errors import run_guarded


class Command(NamedTuple):
    module: str
    run: str  # the function that runs it
    arguments: str | None  # the function that adds its options to a parser; None: the module parses argv itself
    help: str
    options: str | None = None  # module.function(argv, prog) that parses its options alone: --help without
    # importing the (heavy) module that runs it


COMMANDS = {
    "predict": Command("model.cli", "run", "add_arguments", "classify article files"),
    "export": Command("model.cli", "run_export", "add_export_arguments",
                      "write a trained model in a light format (see --format)"),
    "train": Command("training.train", "main", None, "fine-tune a classifier (see arabic-topics train --help)",
                     "training.config.parse_args"),
    "add-label": Command("training.add_label", "main", None,
                         "add a label to a multi-label model from a handful of examples (see --help)"),
    "benchmark-train": Command("training.throughput", "main", None,
                               "training throughput: our recipe vs a plain Trainer fine-tune (see --help)"),
    "evaluate": Command("eval.cli", "run_evaluate", "add_evaluate_arguments",
                        "evaluation report: scores, plots, errors, baseline"),
    "baseline": Command("eval.cli", "run_baseline", "add_baseline_arguments",
                        "train the TF-IDF + LinearSVC baseline as a model"),
    "benchmark": Command("eval.benchmark", "run", "add_arguments",
                         "inference speed and accuracy: our default against a plain transformers pipeline"),
    "serve": Command("model.serve", "run", "add_arguments",
                     "serve a model over HTTP: a JSON API and a page (needs the serve extra, docs/serving.md)"),
    "benchmark-serve": Command("eval.serve_benchmark", "run", "add_arguments",
                               "the server's throughput and latency under concurrent clients against in-process predict"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:  # help, or an unknown command: argparse says which exist
        parser = argparse.ArgumentParser(prog="arabic-topics", description="Arabic news topic classification.")
        commands = parser.add_subparsers(dest="command", required=True)
        for name, command in COMMANDS.items():
            commands.add_parser(name, help=command.help, add_help=False)
        parser.parse_args(argv)
        return 2  # parse_args exits on every path here; a known command never reaches this branch
    command = COMMANDS[argv[0]]
    if command.options and {"-h", "--help"} & set(argv[1:]):
        module_name, function = command.options.rsplit(".", 1)
        getattr(importlib.import_module(module_name), function)(argv[1:], prog=f"arabic-topics {argv[0]}")
    module = importlib.import_module(command.module)
    if command.arguments is None:  # these parse their own options (train's are a dataclass, also read from YAML)
        return run_guarded(getattr(module, command.run), argv[1:])
    parser = argparse.ArgumentParser(prog=f"arabic-topics {argv[0]}", description=command.help)
    getattr(module, command.arguments)(parser)
    return run_guarded(getattr(module, command.run), parser.parse_args(argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
