"""`arabic-topics evaluate` and `arabic-topics baseline`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from model import UserError
from training.config import CORPUS_OPTIONS


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """How --data is read: the corpus options of `arabic-topics train` (CORPUS_OPTIONS), and its label map."""
    corpus = parser.add_argument_group("reading --data (as arabic-topics train reads it)")
    corpus.add_argument("--format", choices=["auto", "ant", "folders", "table"], help="default: auto")
    corpus.add_argument("--text-column", help="table column holding the article body (default: text)")
    corpus.add_argument("--title-column", help="table column holding the title (default: title, when present)")
    corpus.add_argument("--label-column", help="table column holding the label (default: label)")
    corpus.add_argument("--id-column", help="table column holding article ids (default: file name and row)")
    corpus.add_argument("--source-column", help="table column naming the outlet")
    corpus.add_argument("--label-map", help="label-mapping YAML turning the labels of --data into the model's "
                        "(with --loso or baseline: into the baseline's)")


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Score a model on labelled data. A file or folder other than the model's training corpus is scored "
        "whole: every article, exact duplicates counted and kept, gold labels matched to the model's by name. "
        "The model's own training corpus (the path of `data` in its training_config.yaml) is scored on the "
        "test split the model was trained with instead.")
    parser.add_argument("--model", help="model directory (default: the shipped model, or $ARABIC_TOPICS_MODEL); "
                        "omit with --loso")
    parser.add_argument("--data", required=True, help="labelled corpus folder or CSV/TSV/JSONL file")
    parser.add_argument("--out", help="report directory: metrics.json, report.md, plots, errors.csv (default: the "
                        "metrics are printed and no file is written; --loso, --long-articles and --few-shot need it)")
    add_corpus_arguments(parser)
    protocol = parser.add_mutually_exclusive_group()
    protocol.add_argument("--loso", action="store_true",
                          help="leave-one-source-out for the TF-IDF baseline, every outlet in turn")
    protocol.add_argument("--long-articles", action="store_true",
                          help="head-truncated vs windowed reading of the articles longer than the window")
    protocol.add_argument("--few-shot", metavar="LABEL",
                          help="fit LABEL (one the model has not seen) from k annotated examples as add-label does, "
                          "and score it on --test-ids (needs --annotations)")
    protocol.add_argument("--as-topics", metavar="LABEL_MAP",
                          help="score a multi-label model as a single-label topic classifier on the random part of "
                          "its test split (a held-out outlet: all its articles), gold labels from LABEL_MAP, beside "
                          "the baseline")
    parser.add_argument("--residual", metavar="TOPIC",
                        help="with --as-topics: the topic of articles none of the other topics fits (politics for "
                        "the ANT mapping); it scores 1 - the highest of them")
    parser.add_argument("--leave-out", metavar="IDS",
                        help="with --as-topics: file of article ids left out of the test split (the fixed annotated "
                        "test ids, e.g. training/recipes/psd-test-ids.txt); default: those the recipe added to a "
                        "random split, the annotated articles of an ids split, none of a held-out outlet")
    parser.add_argument("--annotations", help="with --few-shot: JSONL of 0/1 labels per article id")
    parser.add_argument("--test-ids", help="with --few-shot: the ids kept for testing")
    parser.add_argument("--apply", action="store_true",
                        help="with --long-articles: write the reading chosen on dev into the model's settings")
    parser.add_argument("--baseline-data", metavar="FILE",
                        help="labelled training data for the TF-IDF baseline, read like --data (same columns "
                        "and --label-map; default: the model's training split when its corpus is here)")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the TF-IDF + LinearSVC baseline")
    parser.add_argument("--batch-size", type=int, default=32)


def run_evaluate(args: argparse.Namespace) -> int:
    from model import default_model_dir

    from . import protocols

    corpus = {name: getattr(args, name) for name in CORPUS_OPTIONS if getattr(args, name) is not None}
    writes = [name for name in ("loso", "long_articles", "few_shot") if getattr(args, name)]
    if writes and not args.out:
        raise UserError(f"--{writes[0].replace('_', '-')} writes its report: give --out DIR")
    if args.loso:
        if args.model:
            raise UserError("--loso runs the baseline on every outlet; for a transformer, train with "
                            "--split source --test-sources OUTLET and evaluate that model")
        protocols.leave_one_source_out(args.data, args.out, args.label_map, **corpus)
        print(f"report written to {Path(args.out) / 'report.md'}")
        return 0
    if args.leave_out and not args.as_topics:
        raise UserError("--leave-out selects the test articles of --as-topics; give --as-topics LABEL_MAP too")
    special = args.few_shot or args.long_articles or args.as_topics
    if special and (corpus or args.baseline_data):
        given = [f"--{k.replace('_', '-')}" for k in corpus] + ["--baseline-data"] * bool(args.baseline_data)
        raise UserError(f"{', '.join(given)}: --few-shot, --long-articles and --as-topics read the model's "
                        "training corpus as it was trained")
    model = args.model or default_model_dir()
    if args.few_shot:
        if not (args.annotations and args.test_ids):
            raise UserError("--few-shot needs --annotations and --test-ids")
        from .few_shot import few_shot

        few_shot(model, args.data, args.annotations, args.few_shot, args.test_ids, args.out,
                 batch_size=args.batch_size)
    elif args.long_articles:
        protocols.long_articles(model, args.data, args.out, args.apply, args.batch_size)
    elif args.as_topics:
        if not args.residual:
            raise UserError("--as-topics needs --residual TOPIC (e.g. --residual politics)")
        _print(protocols.as_topics(model, args.data, args.as_topics, args.residual, args.out,
                                   args.baseline, args.batch_size, args.leave_out))
    else:
        _print(protocols.evaluate_file(args.data, model, args.out, label_map=args.label_map,
                                       baseline_data=args.baseline_data, baseline=args.baseline,
                                       batch_size=args.batch_size, **corpus))
    if args.out:
        print(f"report written to {Path(args.out) / 'report.md'}")
    return 0


def _print(metrics: dict) -> None:
    """The scores of each label, then one line of the whole: the model's macro-F1 beside the baseline's."""
    model = metrics["model"]
    width = max(len("label"), *map(len, model["per_label"]))
    print(f"{'label':<{width}}  precision  recall      F1  support")
    for label, row in model["per_label"].items():
        print(f"{label:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  {row['f1']:6.4f}  {row['support']:7d}")
    data = metrics["data"]
    scores = " · ".join(f"{name.replace('_f1', '-F1').replace('_', ' ')} {model[name]:.4f}"
                        for name in ("accuracy", "subset_accuracy", "micro_f1") if name in model)
    line = f"{data['articles']} articles: model macro-F1 {model['macro_f1']:.4f} ({scores})"
    if "baseline" in metrics:
        line += f" | TF-IDF baseline {metrics['baseline']['macro_f1']:.4f}"
    if "duplicates" in data:
        line += f" | {data['duplicates']['rows']} exact duplicate(s), scored"
    print(line)
    if "no_baseline" in metrics:
        print(f"no TF-IDF baseline: {metrics['no_baseline']}")


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="labelled corpus folder or CSV/TSV/JSONL file")
    parser.add_argument("--out", required=True, help="where the baseline model and its report go")
    parser.add_argument("--split", choices=["random", "source"], default="random",
                        help="test split: stratified random, or whole outlets (--test-sources)")
    parser.add_argument("--test-sources", help="comma-separated outlets held out with --split source")
    parser.add_argument("--test-size", type=float, default=0.2, help="test fraction of a random split (default 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    add_corpus_arguments(parser)


def run_baseline(args: argparse.Namespace) -> int:
    """Train the TF-IDF baseline as a model of its own, save it (no pickle) and report on the test split."""
    from training.config import TrainConfig
    from training.data import load_splits

    from model.tfidf import TfidfBaseline, baseline_texts
    from .evaluate import evaluate

    columns = {k: getattr(args, k) for k in CORPUS_OPTIONS if getattr(args, k) is not None}
    config = TrainConfig(data=args.data, label_map=args.label_map, split=args.split, test_sources=args.test_sources,
                         dev_size=0.0, test_size=args.test_size, seed=args.seed, **columns)
    splits, summary = load_splits(config)
    baseline = TfidfBaseline().fit(baseline_texts(splits["train"]), list(splits["train"]["label"]))
    out = Path(args.out)
    baseline.save(out)
    (out / "data_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    metrics = evaluate(baseline, splits["test"], out_dir=out / "report", data_path=args.data,
                       split=f"{args.split} (seed {args.seed})", title=f"TF-IDF baseline on {Path(args.data).name}")
    print(f"baseline macro-F1 {metrics['model']['macro_f1']:.4f} on {len(splits['test'])} test articles; "
          f"saved to {out}, report in {out / 'report' / 'report.md'}")
    return 0
