"""Fine-tune a topic classifier: corpus -> hygiene -> split -> Trainer -> checkpoint directory.

`train` runs the phases in order, each in its own module: the data (training/data.py: read, clean, split,
tokenise), the model and its recipe (here: the base encoder, the settings chosen from the data and the time
budget, the frozen layers), the training loop (training/loop.py: the Trainer, its inputs and callbacks) and the
results (training/results.py: scores, the TF-IDF baseline and blend, the saved directory).

    arabic-topics train --data ../shared/datasets/ant-multisource-v2.1 --base e5-small --output-dir runs/ant
    python -m training.train --config recipe.yaml --max-train-samples 2000
"""
from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from pathlib import Path

import datasets
import torch
from accelerate import PartialState
from datasets import DatasetDict
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, EarlyStoppingCallback, ProgressCallback, TrainingArguments,
                          set_seed)

from .metrics import (tune_masked_thresholds,
                          tune_thresholds)
from model import NormalizerConfig, TopicClassifier, TopicSettings, UserError, prepare_text
from model.bases import resolve_base
from model.scores import probabilities
from model.quiet import head_restored_after
from model.hardware import bf16_available, default_device

from .config import TrainConfig, parse_args
from .data import encode_splits, subsample, label_set, load_splits, split_counts, topic_settings
from .loop import (Deadline, ReadableProgress, StopOnInterrupt, TopicTrainer, TrainingInterrupted, class_weights,
                   distill, scorer, trainer_inputs)
from .results import split_scores, baseline_beside, best_epoch, blend_with_tfidf, compare_with_baseline, save_final
from . import recipe

log = logging.getLogger("arabic-topics")


# ------------------------------------------------------------------------------------------- model
def build_model(config: TrainConfig, labels: list[str], multi_label: bool):
    base_path, prefix = resolve_base(config.base)
    try:
        tokenizer = AutoTokenizer.from_pretrained(base_path)
        # A base encoder has no classification head: transformers' load report of it ("MISSING ... newly
        # initialized") describes what training is about to do, so it is replaced by a check of our own that
        # only the head was missing.
        with head_restored_after():
            model, info = AutoModelForSequenceClassification.from_pretrained(
                base_path, num_labels=len(labels), id2label=dict(enumerate(labels)),
                label2id={lab: i for i, lab in enumerate(labels)}, output_loading_info=True,
                **({"num_hidden_layers": config.num_layers} if config.num_layers else {}),
                problem_type="multi_label_classification" if multi_label else "single_label_classification")
    except OSError as exc:
        raise UserError(f"cannot load base encoder {config.base!r}: {str(exc).splitlines()[0]}") from None
    head = {name for name, _ in model.named_parameters() if not name.startswith(model.base_model_prefix + ".")}
    unexpected = sorted(set(info.get("missing_keys", ())) - head)
    if unexpected:
        log.warning("base encoder %s lacks %d weight(s) outside the classification head, initialised at random "
                    "(e.g. %s)", config.base, len(unexpected), unexpected[0])
    if config.freeze_layers is not None:  # unset: chosen by resolve_recipe, which then freezes
        freeze(model, config)
    return model, tokenizer, prefix, base_path


def resolve_recipe(config: TrainConfig, splits: DatasetDict, tokenizer, model, prefix: str,
                   bf16: bool, spent_seconds: float = 0.0) -> tuple[TrainConfig, dict]:
    """Fill the settings left unset from the training articles and this machine (training/recipe.py), to fit
    what `spent_seconds` left of the time budget; print the choice with its time estimate, and freeze the model
    as chosen."""
    probe = TopicSettings(normalizer=NormalizerConfig(), text_prefix=prefix)
    train_part = splits["train"]
    titles = train_part["title"] if config.use_title else [None] * len(train_part)
    texts = [prepare_text(t, ti, probe) for t, ti in zip(train_part["text"], titles)]
    config, chosen = recipe.choose(config, list(train_part["label"]), texts,
                                   sum(len(part) for part in splits.values()), len(splits["dev"]), tokenizer, model,
                                   bf16, len(splits["test"]), spent_seconds)
    log.info(recipe.describe(chosen))
    freeze(model, config)
    return config, chosen


def freeze(model, config: TrainConfig) -> None:
    """Freeze the word-embedding matrix (96M of e5-small's 118M parameters; ~5x step time on CPU to train)
    and optionally the lower encoder layers."""
    on_cpu = default_device().type == "cpu"
    embeddings = model.base_model.embeddings
    if config.freeze_embeddings if config.freeze_embeddings is not None else on_cpu:
        embeddings.word_embeddings.weight.requires_grad_(False)
    if config.freeze_layers:
        embeddings.requires_grad_(False)
        for layer in model.base_model.encoder.layer[: config.freeze_layers]:
            layer.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    log.info("trainable parameters: %.1fM of %.1fM", trainable / 1e6, total / 1e6)


def resolve_bf16(config: TrainConfig) -> bool:
    """The recipe's bf16 setting; unset, bf16 wherever the device runs it natively."""
    return config.bf16 if config.bf16 is not None else bf16_available(default_device())


def optimisation(config: TrainConfig, bf16: bool) -> dict:
    """The TrainingArguments every run of a recipe shares (train, and both arms of benchmark-train):
    optimiser, schedule, batch sizes, precision, seeds, device."""
    return dict(learning_rate=config.learning_rate, per_device_train_batch_size=config.batch_size,
                per_device_eval_batch_size=config.eval_batch_size, weight_decay=config.weight_decay,
                warmup_steps=config.warmup_ratio, lr_scheduler_type="linear", bf16=bf16, seed=config.seed,
                data_seed=config.seed, report_to="none", use_cpu=not torch.cuda.is_available(),
                dataloader_num_workers=0)


# -------------------------------------------------------------------------------------------- main
def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest checkpoint whose save finished. The Trainer writes trainer_state.json last, so a run killed
    while saving leaves a checkpoint-N without it (or with it cut short), which resuming must skip."""
    found = [(int(p.name.split("-")[1]), p) for p in folder.glob("checkpoint-*")
             if p.is_dir() and p.name.split("-")[1].isdigit()] if folder.is_dir() else []
    for _, path in sorted(found, reverse=True):
        try:
            json.loads((path / "trainer_state.json").read_text())
            return str(path)
        except (OSError, ValueError):
            log.warning("skipping incomplete checkpoint %s", path)
    return None


def check_output_dir(config: TrainConfig, clear: bool = True) -> Path:
    """Refuse to replace a finished or unfinished run unless asked; with `clear` (one process of a
    distributed run), remove the checkpoints of a run being overwritten."""
    out = Path(config.output_dir)
    finished = (out / "config.json").exists()
    in_progress = last_complete_checkpoint(out / "checkpoints")
    if config.resume and not in_progress:
        raise UserError(f"--resume: no checkpoint to resume in {out / 'checkpoints'}")
    if finished and not (config.overwrite or config.resume):
        raise UserError(f"{out} already holds a trained model; pass --overwrite to replace it")
    if in_progress and not (config.resume or config.overwrite):
        raise UserError(f"{out} holds an unfinished run ({Path(in_progress).name}); pass --resume to continue "
                        "it or --overwrite to start again")
    if clear and config.overwrite and not config.resume and (out / "checkpoints").is_dir():
        shutil.rmtree(out / "checkpoints")
    return out


def train(config: TrainConfig) -> Path:
    started = time.monotonic()  # --time-budget counts from here
    # One process, or one of several started by torchrun / accelerate launch (docs/distributed-training.md):
    # every process reads the data and trains its share of each batch; the main one alone writes files.
    processes = PartialState(cpu=not torch.cuda.is_available())
    if not processes.is_main_process:
        quiet_replica()
    with processes.main_process_first():  # the others look at the folder once the main one has cleared it
        out = check_output_dir(config, clear=processes.is_main_process)
    set_seed(config.seed)
    splits, summary = load_splits(config)
    if len(splits["dev"]) == 0:
        raise UserError("training needs a dev split (for model selection); raise --dev-size")
    labels, multi_label, partial = label_set(splits, summary)
    model, tokenizer, prefix, base_path = build_model(config, labels, multi_label)
    use_bf16 = resolve_bf16(config)
    # the baseline first, so that the recipe plans what is left of the time budget after it
    baseline = baseline_beside(splits, labels, multi_label, partial)
    config, chosen = resolve_recipe(config, splits, tokenizer, model, prefix, use_bf16, time.monotonic() - started)
    if config.max_train_samples and config.max_train_samples < len(splits["train"]):  # cut to fit the budget
        splits["train"] = subsample(splits["train"], config.max_train_samples, config.seed)
        summary["split"]["train"] = len(splits["train"])
        summary.update(split_counts(splits))
        baseline = baseline_beside(splits, labels, multi_label, partial)  # on the same training articles
    settings = topic_settings(config, prefix, multi_label, summary)
    encoded = encode_splits(splits, tokenizer, settings, labels, config.use_title, train_length=config.max_length)
    weights = class_weights(config, encoded["train"], len(labels), multi_label)
    distilled = distill(config, splits["train"], encoded, labels, multi_label) if config.distill_from else None
    inputs = trainer_inputs(model, tokenizer, encoded, config.freeze_layers, base_path, use_bf16,
                            config.feature_cache, processes)
    per_epoch = config.eval_every is None
    args = TrainingArguments(
        output_dir=str(out / "checkpoints"), num_train_epochs=config.epochs, **optimisation(config, use_bf16),
        eval_strategy="epoch" if per_epoch else "steps", save_strategy="epoch" if per_epoch else "steps",
        eval_steps=config.eval_every, save_steps=config.eval_every, logging_steps=10,
        load_best_model_at_end=True, metric_for_best_model="macro_f1", greater_is_better=True,
        save_total_limit=2, train_sampling_strategy=inputs.sampling,
        label_names=["labels", "label_mask"] if partial else ["labels"],
        # Distributed runs. Our losses are means over a process's batch, and DDP averages the gradients, so
        # together they are the mean over the whole batch; the Trainer's token averaging would multiply the
        # loss (and gradients) by the number of processes, as it expects a loss divided by all processes'
        # tokens. And every trainable parameter takes part in each step (frozen ones are not synchronised at
        # all), so DDP's per-step search for unused ones would be wasted work.
        average_tokens_across_devices=False, ddp_find_unused_parameters=False)
    interrupt = StopOnInterrupt()
    budget = config.time_budget * 60
    deadline = Deadline(started + budget, chosen["estimate_dev_seconds"], len(encoded["test"]) / len(encoded["dev"]),
                        end_seconds=0.02 * budget)  # the blend's fit, the model card
    callbacks = [interrupt, deadline] + ([EarlyStoppingCallback(config.early_stopping_patience)]
                               if config.early_stopping_patience else [])
    trainer = TopicTrainer(model=inputs.model, args=args, train_dataset=inputs.data["train"],
                           eval_dataset=inputs.data["dev"], data_collator=inputs.collator,
                           compute_metrics=scorer(labels, multi_label, partial), callbacks=callbacks,
                           class_weights=weights, soft_targets=bool(distilled) and not multi_label)
    if trainer.pop_callback(ProgressCallback) is not None:  # present unless the bars are switched off
        trainer.add_callback(ReadableProgress())
    with interrupt.catching():
        trainer.train(resume_from_checkpoint=last_complete_checkpoint(out / "checkpoints") if config.resume else None)
    if interrupt.interrupted:
        raise TrainingInterrupted(f"interrupted at step {trainer.state.global_step}; checkpoint saved in "
                                  f"{out / 'checkpoints'}; continue with the same command and --resume")

    if deadline.reached:
        log.warning("time budget: training stopped at step %d of %d to end within --time-budget %g min; the best "
                    "checkpoint so far is kept", trainer.state.global_step, trainer.state.max_steps,
                    config.time_budget)
    metrics = {"recipe": chosen, **({"distillation": distilled} if distilled else {})}
    dev_out = trainer.predict(inputs.data["dev"], metric_key_prefix="dev")
    test_out = trainer.predict(inputs.data["test"], metric_key_prefix="test") if len(encoded["test"]) else None
    if multi_label:
        probs = probabilities(dev_out.predictions, multi_label=True)
        if partial:
            gold, mask = dev_out.label_ids
            tuned = tune_masked_thresholds(gold.astype(int), probs, mask)
        else:
            tuned = tune_thresholds(dev_out.label_ids.astype(int), probs)
        settings.thresholds = dict(zip(labels, map(float, tuned)))
    metrics["dev"] = split_scores(dev_out, multi_label, settings, labels)
    if test_out is not None:
        metrics["test"] = split_scores(test_out, multi_label, settings, labels)
    metrics["baseline"], tfidf, decisions = baseline
    blended = None
    if tfidf is not None and not partial and config.fusion is not False:
        blended = blend_with_tfidf(config, labels, multi_label, tfidf, decisions, dev_out, test_out, settings,
                                   metrics)
    # the epoch whose model was kept (its checkpoint folder is removed once the model is saved)
    metrics["best_epoch"] = best_epoch(trainer.state)
    # the effective batch is batch_size x processes: a run is only reproduced with the same number of them
    metrics["training"] = {"processes": processes.num_processes, "steps": trainer.state.global_step,
                           "batch_size": config.batch_size * processes.num_processes}
    metrics["evaluations"] = [{"epoch": e["epoch"], "step": e["step"], "dev_macro_f1": e["eval_macro_f1"]}
                              for e in trainer.state.log_history if "eval_macro_f1" in e]
    metrics["time"] = {"budget_seconds": budget, "stopped_by_budget": deadline.reached,
                       "planned_steps": trainer.state.max_steps}
    model = inputs.trunk.reattach() if inputs.trunk else trainer.model
    classifier = TopicClassifier(model.float(), tokenizer, settings, tfidf=blended)
    metrics["time"]["elapsed_seconds"] = round(time.monotonic() - started, 1)  # all but the save below
    if processes.is_main_process:
        save_final(out, classifier, config, summary, metrics)
    processes.wait_for_everyone()  # no process returns before the model is in place
    for line in compare_with_baseline(metrics):
        log.info(line) if not line.startswith("warning") else log.warning(line)
    log.info("model saved to %s after %.1f min (--time-budget %g)", out, (time.monotonic() - started) / 60,
             config.time_budget)
    return out


def quiet_replica() -> None:
    """The other processes of a distributed run repeat the main one's work: only their warnings are shown."""
    log.setLevel(logging.WARNING)
    datasets.disable_progress_bars()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = parse_args(argv)
    train(config)
    return 0


if __name__ == "__main__":
    from model.errors import run_guarded

    sys.exit(run_guarded(main))
