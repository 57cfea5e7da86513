"""The `arabic-topics` command. It lives in training/ because training is allowed to import model/ and
eval/, while model/ imports neither."""
from __future__ import annotations

import argparse
import importlib
import sys

from model import UserError


def run_guarded(func, *args) -> int:
    """Run a command; user errors become one line on stderr and exit status 2, never a traceback."""
    try:
        return func(*args)
    except UserError as exc:
        _say(f"arabic-topics: error: {exc}")
        return 2
    except KeyboardInterrupt as exc:
        _say(f"arabic-topics: {exc or 'interrupted (checkpoints written so far are kept; --resume continues)'}")
        return 130


def _say(line: str) -> None:
    # One write per line: under torchrun every process shares stderr, and print() writes the text and its
    # newline separately when output is unbuffered, so two processes' lines could run together.
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


# Commands whose options their module parses itself (train's are TrainConfig's fields, also read from YAML).
OWN_OPTIONS = {"train": "train", "add-label": "add_label", "benchmark-train": "throughput"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="arabic-topics", description="Arabic news topic classification.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("train", help="fine-tune a classifier (see arabic-topics train --help)", add_help=False)
    commands.add_parser("add-label", add_help=False,
                        help="add a label to a multi-label model from a handful of examples (see --help)")
    commands.add_parser("benchmark-train", add_help=False,
                        help="training throughput: our recipe vs a plain Trainer fine-tune (see --help)")
    from eval import benchmark as benchmark_cli
    from eval import cli as eval_cli
    from model import cli as predict_cli

    predict = commands.add_parser("predict", help="classify article files")
    predict_cli.add_arguments(predict)
    evaluate = commands.add_parser("evaluate", help="evaluation report: scores, plots, errors, baseline")
    eval_cli.add_evaluate_arguments(evaluate)
    baseline = commands.add_parser("baseline", help="train the TF-IDF + LinearSVC baseline as a model")
    eval_cli.add_baseline_arguments(baseline)
    export = commands.add_parser("export", help="write a trained model in a light format (see --format)")
    predict_cli.add_export_arguments(export)
    bench = commands.add_parser("benchmark", help="inference speed and accuracy of each backend vs a pipeline")
    benchmark_cli.add_arguments(bench)
    runners = {"predict": predict_cli.run, "evaluate": eval_cli.run_evaluate, "baseline": eval_cli.run_baseline,
               "export": predict_cli.run_export, "benchmark": benchmark_cli.run}
    if argv and argv[0] in OWN_OPTIONS:  # these parse their own options (dataclass + YAML): hand them over
        module = importlib.import_module(f"training.{OWN_OPTIONS[argv[0]]}")
        return run_guarded(module.main, argv[1:])
    args = parser.parse_args(argv)
    return run_guarded(runners[args.command], args)


if __name__ == "__main__":
    sys.exit(main())
