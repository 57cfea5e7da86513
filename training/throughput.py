"""`arabic-topics benchmark-train`: training throughput of our recipe against a plain Trainer fine-tune, in one
process, on the same articles, labels, split, max length, batch size, learning rate and seed.

    arabic-topics benchmark-train --config training/recipes/default.yaml --data CORPUS --steps 60

Arms:
- ours: the recipe as `arabic-topics train` runs it (embeddings and `freeze_layers` lower layers frozen, their
  outputs computed once per article, bf16 where the machine has it). The trunk encoding is timed with the
  training, into a fresh temporary cache, so a cache left by an earlier run never flatters it;
- plain: `transformers.Trainer`, fp32, every parameter trainable (the embedding matrix included), dynamic
  padding with DataCollatorWithPadding: what a user of the library would run without our changes.

Both arms train on the same `steps x batch_size` training articles for `--steps` steps, or as many as end within
`--budget-s` seconds (train's Deadline; ours' clock starts before its trunk encoding), then score macro-F1 on the
same `--dev-n` dev articles. docs/s = steps x batch size / seconds; the headline (and the ratio) counts the trunk encoding.

Single-label and multi-label recipes; a partial-label one (annotations, or a label map's `none`) is refused:
a plain Trainer has no loss that leaves unknown labels out.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import hashlib
import json
import logging
import shlex
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import torch
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments, set_seed

from model import UserError
from model.atomic import atomic_write_text
from model.hardware import describe_machine

from .config import TrainConfig, parse_args
from .train import (Deadline, TopicTrainer, build_model, class_weights, encode_splits, label_set, load_splits,
                    optimisation, resolve_bf16, resolve_recipe, scorer, topic_settings, trainer_inputs)

PROG = "arabic-topics benchmark-train"
RATIO_LINE = "training throughput ours / plain: {:.2f}×"


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, TrainConfig]:
    """Our options here; everything else (--config, --data, --max-length, ...) goes to `train`'s parser, so
    both arms read the recipe exactly as `arabic-topics train` would."""
    parser = argparse.ArgumentParser(
        prog=PROG, allow_abbrev=False, description="Training throughput: our recipe vs a plain Trainer fp32 "
        "full fine-tune.", epilog="Any `arabic-topics train` option (--config, --data, --max-length, "
        "--batch-size, ...) sets the recipe both arms share.")
    parser.add_argument("--steps", type=int, default=200, help="training steps per arm (default 200)")
    parser.add_argument("--budget-s", type=float, help="also stop each arm after this many seconds (ours' "
                        "trunk encoding included)")
    parser.add_argument("--dev-n", type=int, default=500, help="dev articles scored (default 500)")
    parser.add_argument("--out", default="benchmark-train.json", help="JSON results (default benchmark-train.json)")
    options, rest = parser.parse_known_args(argv)
    if options.steps < 1 or options.dev_n < 1 or (options.budget_s is not None and options.budget_s <= 0):
        raise UserError("--steps and --dev-n must be at least 1, --budget-s above 0")
    return options, parse_args(rest, prog=PROG)


# -------------------------------------------------------------------------------------------- data
@dataclasses.dataclass
class Workload:
    """What both arms share: the recipe, and its tokenised training and dev articles."""
    config: TrainConfig
    labels: list[str]
    multi_label: bool
    tokenizer: object
    train: object  # datasets.Dataset: input_ids, attention_mask, labels
    dev: object


def prepare(config: TrainConfig, steps: int, dev_n: int) -> Workload:
    # load_splits' own stratified subsampling picks the articles: exactly the ones one pass of `steps` steps
    # reads (so ours encodes no article it does not train on), and a fixed dev subset.
    cap = steps * config.batch_size
    config = dataclasses.replace(config, max_train_samples=min(config.max_train_samples or cap, cap),
                                 max_eval_samples=dev_n)
    set_seed(config.seed)
    splits, summary = load_splits(config)
    if len(splits["dev"]) == 0:
        raise UserError("the benchmark scores the dev split: raise --dev-size")
    labels, multi_label, partial = label_set(splits, summary)
    if partial:
        raise UserError("benchmark-train cannot compare partial-label recipes: a plain Trainer has no loss that "
                        "leaves unknown labels out")
    model, tokenizer, prefix, _ = build_model(config, labels, multi_label)
    # settings the recipe leaves to the data are resolved once, as train() does, and shared by both arms
    config, _ = resolve_recipe(config, splits, tokenizer, model, prefix, resolve_bf16(config))
    settings = topic_settings(config, prefix, multi_label, summary)
    encoded = encode_splits(splits, tokenizer, settings, labels, config.use_title)
    return Workload(config, labels, multi_label, tokenizer, encoded["train"], encoded["dev"])


# -------------------------------------------------------------------------------------------- arms
def arguments(config: TrainConfig, folder: str, steps: int, bf16: bool, **extra) -> TrainingArguments:
    """train()'s optimisation settings, for `steps` steps with no evaluation or checkpoint in between."""
    return TrainingArguments(
        output_dir=folder, max_steps=steps, **optimisation(config, bf16),
        eval_strategy="no", save_strategy="no", logging_strategy="no",
        # every step then reads exactly batch_size articles, also when a small corpus ends an epoch early
        dataloader_drop_last=True, **extra)


class PeakRSS:
    """Highest resident set size of this process while the block runs, sampled every 20 ms."""

    def __enter__(self):
        self.process, self.peak, self.running = psutil.Process(), 0, True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
        self.mb = self.peak / 2**20


def run_ours(work: Workload, steps: int, budget_s: float | None) -> dict:
    config = work.config
    use_bf16 = resolve_bf16(config)
    with PeakRSS() as rss, tempfile.TemporaryDirectory(prefix="benchmark-train-") as folder:
        set_seed(config.seed)
        model, tokenizer, _, base_path = build_model(config, work.labels, work.multi_label)
        before = embedding_fingerprint(model)
        start = time.perf_counter()
        deadline = Deadline(time.monotonic() + budget_s if budget_s else None)
        # as train() runs it, but any trunk cache goes to an empty folder: every article is encoded here
        inputs = trainer_inputs(model, tokenizer, {"train": work.train}, config.freeze_layers, base_path, use_bf16,
                                Path(folder) / "trunk-cache" if config.feature_cache else None)
        cache_s = time.perf_counter() - start
        trainer = TopicTrainer(
            model=inputs.model, args=arguments(config, folder, steps, use_bf16, train_sampling_strategy=inputs.sampling),
            train_dataset=inputs.data["train"], data_collator=inputs.collator, callbacks=[deadline],
            class_weights=class_weights(config, work.train, len(work.labels), work.multi_label))
        trained = trainer.train()
        train_s = time.perf_counter() - start - cache_s
        model = inputs.trunk.reattach() if inputs.trunk else trainer.model
    return _result("ours", work, trainer, trained, deadline, cache_s, train_s, rss.mb, use_bf16,
                   embedding_fingerprint(model) != before, dev_macro_f1(model, work, use_bf16))


def run_plain(work: Workload, steps: int, budget_s: float | None) -> dict:
    config = work.config
    with PeakRSS() as rss, tempfile.TemporaryDirectory(prefix="benchmark-train-") as folder:
        set_seed(config.seed)  # the same classification head as ours starts from
        everything = dataclasses.replace(config, freeze_embeddings=False, freeze_layers=0)
        model, tokenizer, _, _ = build_model(everything, work.labels, work.multi_label)
        before = embedding_fingerprint(model)
        start = time.perf_counter()
        deadline = Deadline(time.monotonic() + budget_s if budget_s else None)
        trainer = Trainer(model=model, args=arguments(config, folder, steps, bf16=False), train_dataset=work.train,
                          data_collator=DataCollatorWithPadding(tokenizer), callbacks=[deadline])
        trained = trainer.train()
        train_s = time.perf_counter() - start
    return _result("plain", work, trainer, trained, deadline, 0.0, train_s, rss.mb, False,
                   embedding_fingerprint(trainer.model) != before, dev_macro_f1(trainer.model, work, False))


def _result(name, work, trainer, trained, deadline, cache_s, train_s, peak_rss_mb, bf16, embeddings_trained,
            macro_f1) -> dict:
    steps = trainer.state.global_step
    docs = steps * work.config.batch_size
    return {"arm": name, "steps": steps, "docs": docs, "stopped_by": "budget" if deadline.reached else "steps",
            "cache_s": cache_s, "train_s": train_s, "wall_s": cache_s + train_s,
            "docs_per_s": docs / (cache_s + train_s), "docs_per_s_excluding_cache": docs / train_s,
            "s_per_step": train_s / max(steps, 1), "train_loss": trained.training_loss,
            "dev_macro_f1": macro_f1, "peak_rss_mb": peak_rss_mb, "bf16": bf16,
            "trainable_parameters": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad),
            "embeddings_trained": embeddings_trained}


def embedding_fingerprint(model) -> str:
    """Digest of the word-embedding matrix's bytes: shows whether training changed it, without a 0.4 GB copy."""
    weight = model.base_model.embeddings.word_embeddings.weight.detach().cpu().contiguous()
    return hashlib.sha1(weight.view(torch.uint8).numpy().data).hexdigest()


def dev_macro_f1(model, work: Workload, bf16: bool) -> float:
    """Macro-F1 of the full model on the dev subset, the same way for both arms (each in its own precision), as
    train() scores its dev split during training."""
    with tempfile.TemporaryDirectory(prefix="benchmark-train-eval-") as folder:
        args = TrainingArguments(output_dir=folder, per_device_eval_batch_size=work.config.eval_batch_size,
                                 bf16=bf16, report_to="none", use_cpu=not torch.cuda.is_available())
        out = Trainer(model=model, args=args, data_collator=DataCollatorWithPadding(work.tokenizer)).predict(work.dev)
    return scorer(work.labels, work.multi_label, partial=False)(out)["macro_f1"]


# ------------------------------------------------------------------------------------------ report
def benchmark(config: TrainConfig, steps: int, budget_s: float | None, dev_n: int) -> dict:
    work = prepare(config, steps, dev_n)
    arms = []
    for run in (run_ours, run_plain):
        arms.append(run(work, steps, budget_s))
        gc.collect()  # the first arm's model and features go before the second is measured
    ours, plain = arms
    return {"date": datetime.date.today().isoformat(), "machine": describe_machine(),
            "recipe": {"data": config.data, "base": config.base, "max_length": config.max_length,
                       "batch_size": config.batch_size, "learning_rate": config.learning_rate, "seed": config.seed,
                       "freeze_layers": config.freeze_layers, "label_map": config.label_map},
            "steps": steps, "budget_s": budget_s, "train_articles": len(work.train), "dev_articles": len(work.dev),
            "arms": {"ours": ours, "plain": plain},
            "headline": "docs_per_s, which for ours includes encoding the frozen trunk into a fresh cache",
            "ratio_ours_vs_plain": ours["docs_per_s"] / plain["docs_per_s"],
            "ratio_ours_vs_plain_excluding_cache": ours["docs_per_s_excluding_cache"] / plain["docs_per_s"]}


def print_table(result: dict) -> None:
    print(f"{result['train_articles']} training articles, {result['dev_articles']} dev, max length "
          f"{result['recipe']['max_length']}, batch {result['recipe']['batch_size']}, "
          f"{result['machine']['torch_threads']} threads")
    print(f"{'arm':6} {'steps':>6} {'docs/s':>8} {'docs/s excl. cache':>19} {'s/step':>7} {'dev macro-F1':>13} "
          f"{'peak RSS MB':>12}")
    for r in result["arms"].values():
        print(f"{r['arm']:6} {r['steps']:6d} {r['docs_per_s']:8.2f} {r['docs_per_s_excluding_cache']:19.2f} "
              f"{r['s_per_step']:7.3f} {r['dev_macro_f1']:13.4f} {r['peak_rss_mb']:12.0f}")
    print("docs/s includes ours' trunk encoding (fresh cache); s/step is training alone")
    print(RATIO_LINE.format(result["ratio_ours_vs_plain"]))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    argv = sys.argv[1:] if argv is None else argv
    options, config = parse(argv)
    Path(options.out).parent.mkdir(parents=True, exist_ok=True)  # before the run, not after minutes of it
    result = benchmark(config, options.steps, options.budget_s, options.dev_n)
    result["command"] = f"arabic-topics benchmark-train {shlex.join(argv)}"
    atomic_write_text(Path(options.out), json.dumps(result, indent=2, ensure_ascii=False))
    print_table(result)
    return 0


if __name__ == "__main__":
    from model.errors import run_guarded

    sys.exit(run_guarded(main))
