"""`arabic-topics evaluate` and `arabic-topics baseline`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from model import UserError


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model directory (omit with --loso)")
    parser.add_argument("--data", required=True, help="corpus folder or CSV/TSV/JSONL file")
    parser.add_argument("--out", required=True, help="report directory")
    protocol = parser.add_mutually_exclusive_group()
    protocol.add_argument("--cross-corpus", action="store_true",
                          help="score on the whole of --data through --label-map (labels shared with the model)")
    protocol.add_argument("--loso", action="store_true",
                          help="leave-one-source-out for the TF-IDF baseline, every outlet in turn")
    protocol.add_argument("--long-articles", action="store_true",
                          help="head-truncated vs windowed reading of the articles longer than the window")
    protocol.add_argument("--few-shot", metavar="LABEL",
                          help="fit LABEL (one the model has not seen) from k annotated examples as add-label does, "
                          "and score it on --test-ids (needs --annotations)")
    protocol.add_argument("--as-topics", metavar="LABEL_MAP",
                          help="score a multi-label model as a single-label topic classifier on the random part "
                          "of its split, gold labels from LABEL_MAP, beside the baseline")
    parser.add_argument("--residual", metavar="TOPIC",
                        help="with --as-topics: the topic of articles none of the other topics fits (politics for "
                        "the ANT mapping); it scores 1 - the highest of them")
    parser.add_argument("--annotations", help="with --few-shot: JSONL of 0/1 labels per article id")
    parser.add_argument("--test-ids", help="with --few-shot: the ids kept for testing")
    parser.add_argument("--apply", action="store_true",
                        help="with --long-articles: write the reading chosen on dev into the model's settings")
    parser.add_argument("--label-map", help="label-mapping YAML for --cross-corpus / --loso")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the TF-IDF + LinearSVC baseline trained on the same train split")
    parser.add_argument("--batch-size", type=int, default=32)


def run_evaluate(args: argparse.Namespace) -> int:
    from . import protocols

    if args.loso:
        if args.model:
            raise UserError("--loso runs the baseline on every outlet; for a transformer, train with "
                            "--split source --test-sources OUTLET and evaluate that model")
        protocols.leave_one_source_out(args.data, args.out, args.label_map)
    elif not args.model:
        raise UserError("--model is required (or --loso for the baseline alone)")
    elif args.few_shot:
        if not (args.annotations and args.test_ids):
            raise UserError("--few-shot needs --annotations and --test-ids")
        from .few_shot import few_shot

        few_shot(args.model, args.data, args.annotations, args.few_shot, args.test_ids, args.out,
                 batch_size=args.batch_size)
        print(f"report written to {Path(args.out) / 'report.md'}")
        return 0
    elif args.long_articles:
        protocols.long_articles(args.model, args.data, args.out, args.apply, args.batch_size)
    elif args.as_topics:
        if not args.residual:
            raise UserError("--as-topics needs --residual TOPIC (e.g. --residual politics)")
        _print(protocols.as_topics(args.model, args.data, args.as_topics, args.residual, args.out,
                                   args.baseline, args.batch_size))
    elif args.cross_corpus:
        _print(protocols.cross_corpus(args.model, args.data, args.label_map, args.out, args.baseline,
                                      args.batch_size))
    else:
        if args.label_map:
            raise UserError("--label-map applies to --cross-corpus and --loso; the model's split reuses the "
                            "mapping it was trained with")
        _print(protocols.model_split(args.model, args.data, args.out, args.baseline, args.batch_size))
    print(f"report written to {Path(args.out) / 'report.md'}")
    return 0


def _print(metrics: dict) -> None:
    key = "macro_f1"
    line = f"model macro-F1 {metrics['model'][key]:.4f}"
    if "baseline" in metrics:
        line += f" | TF-IDF baseline {metrics['baseline'][key]:.4f}"
    print(line)


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="corpus folder or CSV/TSV/JSONL file")
    parser.add_argument("--out", required=True, help="where the baseline model and its report go")
    parser.add_argument("--label-map")
    parser.add_argument("--split", choices=["random", "source"], default="random")
    parser.add_argument("--test-sources")
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)


def run_baseline(args: argparse.Namespace) -> int:
    """Train the TF-IDF baseline as a model of its own, save it (no pickle) and report on the test split."""
    from training.config import TrainConfig
    from training.train import load_splits

    from .baseline import TfidfBaseline, baseline_texts
    from .evaluate import evaluate

    config = TrainConfig(data=args.data, label_map=args.label_map, split=args.split, test_sources=args.test_sources,
                         dev_size=0.0, test_size=args.test_size, seed=args.seed)
    if args.split == "source" and not args.test_sources:
        raise UserError("--split source needs --test-sources")
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
