"""Training configuration: one dataclass, loadable from YAML and overridable on the command line.

    arabic-topics train --config recipe.yaml --epochs 2 --max-length 128
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import yaml
from transformers import HfArgumentParser
from transformers.hf_argparser import string_to_bool

from model import UserError

from .bundle import resolve_model_paths


# How a corpus file is read: the TrainConfig fields that evaluate and benchmark also take for their --data.
CORPUS_OPTIONS = ("format", "text_column", "title_column", "label_column", "id_column", "source_column")
QUICK_RUN = {"max_train_samples": 2000, "max_eval_samples": 1000, "epochs": 2.0, "max_length": 128}


@dataclass
class TrainConfig:
    # data
    data: Optional[str] = field(default=None, metadata={"help": "corpus folder or CSV/TSV/JSONL file (the training "
                                                                "articles; dev and test are carved from it unless given)"})
    dev_data: Optional[str] = field(default=None, metadata={
        "help": "official dev file, read like --data and kept whole (articles of --data also in it are removed from "
                "training)"})
    test_data: Optional[str] = field(default=None, metadata={
        "help": "official test file, read like --data and kept whole (articles of --data also in it are removed from "
                "training)"})
    format: Literal["auto", "ant", "folders", "table"] = field(default="auto", metadata={
        "help": "how --data is laid out: ANT tag files, category folders of .txt, or a table (auto: detected)"})
    text_column: str = field(default="text", metadata={"help": "table column holding the article body"})
    title_column: Optional[str] = field(default=None, metadata={
        "help": "table column holding the title (default: 'title' when the table has one)"})
    label_column: str = field(default="label", metadata={"help": "table column holding the label ('a|b' or a JSON "
                                                                 "list for several)"})
    id_column: Optional[str] = field(default=None, metadata={"help": "table column holding a unique article id "
                                                                     "(default: file name and row number)"})
    source_column: Optional[str] = field(default=None, metadata={"help": "table column naming the outlet"})
    label_map: Optional[str] = field(default=None, metadata={"help": "label-mapping YAML"})
    conflicts: Literal["first", "drop"] = field(
        default="first", metadata={"help": "duplicate bodies with different labels: keep the first, or drop all"})
    annotations: Optional[str] = field(default=None, metadata={
        "help": "JSONL of extra 0/1 labels per article id (partial multi-label: unknown labels are masked); "
                "several files comma-separated"})
    pseudo_labels_from: Optional[str] = field(default=None, metadata={
        "help": "teacher model directory: fills the unknown labels of training articles with its predictions"})
    distill_from: Optional[str] = field(default=None, metadata={
        "help": "teacher model directory with the same labels: training targets mix the gold labels with its "
                "probabilities (knowledge distillation, training/distillation.py)"})
    distill_weight: float = field(default=0.5, metadata={
        "help": "share of the teacher's probabilities in the targets with --distill-from (1: the teacher alone)"})
    split: Literal["random", "source", "ids"] = field(default="random", metadata={
        "help": "how dev/test are carved from --data: stratified random, held-out outlets (--test-sources) or "
                "fixed article ids (--test-ids)"})
    test_sources: Optional[str] = field(default=None, metadata={"help": "comma-separated outlets held out"})
    test_ids: Optional[str] = field(default=None, metadata={"help": "file of article ids forming the test split "
                                                                  "(--split ids), or added to the random test split"})
    dev_size: float = field(default=0.1, metadata={"help": "fraction of --data kept for dev when no --dev-data"})
    test_size: Optional[float] = field(default=None, metadata={
        "help": "fraction of --data kept for test when no --test-data (default: 0.1, or 0 when --dev-data is given)"})
    max_train_samples: Optional[int] = field(default=None, metadata={"help": "stratified subsample, quick runs"})
    max_eval_samples: Optional[int] = field(default=None, metadata={"help": "cap dev and test sizes"})
    use_title: bool = field(default=True, metadata={"help": "read the title before the body"})
    # model
    base: str = field(default="e5-small", metadata={"help": "e5-small (offline preset), hub id or path"})
    # Fields left at None are chosen from the data and the machine when training starts (training/recipe.py),
    # printed with a time estimate, and saved resolved in training_config.yaml; an explicit value always wins.
    num_layers: Optional[int] = field(default=None, metadata={
        "help": "keep only the base's first N encoder layers: a shallower, faster model (default: all of them)"})
    max_length: Optional[int] = field(default=None, metadata={
        "help": "tokens read per article (default: from the token lengths of the training articles)"})
    freeze_embeddings: Optional[bool] = field(
        default=None, metadata={"help": "freeze the word-embedding matrix (default: on when training on CPU)"})
    freeze_layers: Optional[int] = field(default=None, metadata={
        "help": "freeze this many lower encoder layers, whose outputs are then computed once per article "
                "(default: chosen to fit --time-budget; 0 fine-tunes every layer)"})
    feature_cache: Optional[str] = field(default=None, metadata={
        "help": "folder keeping the frozen layers' outputs, reused by later runs on the same articles"})
    # How the saved model reads articles longer than max_length at prediction time (training always sees the
    # head). `arabic-topics evaluate --long-articles --apply` chooses it on dev; a recipe pins that choice so a
    # rerun saves the model exactly as shipped.
    read_length: Optional[int] = field(default=None, metadata={
        "help": "tokens per window when predicting, and when scoring dev and test (default: --max-length, the "
                "length trained at)"})
    max_windows: int = field(default=1, metadata={"help": "windows read per long article when predicting "
                                                           "(1 = the head only)"})
    window_overlap: int = field(default=32, metadata={"help": "tokens shared by consecutive windows"})
    aggregate: Literal["mean", "max"] = field(default="mean", metadata={"help": "how window logits combine"})
    title_in_every_window: bool = field(default=True, metadata={"help": "repeat the title in every window"})
    backend: Optional[str] = field(default=None, metadata={
        "help": "backend predict runs the saved model with on a CPU when none is asked for: fp32, bf16, onnx or "
                "onnx-int8 (default: the machine's, bf16 with AMX, else fp32); measure with arabic-topics benchmark"})
    # optimisation
    epochs: Optional[float] = field(default=None, metadata={
        "help": "maximum training epochs; early stopping on dev macro-F1 may end sooner (default: from the "
                "training-set size and --time-budget)"})
    learning_rate: Optional[float] = field(default=None, metadata={
        "help": "peak learning rate, linear decay (default: from how many layers are trained)"})
    batch_size: int = field(default=32, metadata={"help": "training articles per step (per process)"})
    eval_batch_size: int = field(default=64, metadata={"help": "articles per batch when scoring dev and test"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    warmup_ratio: float = field(default=0.06, metadata={"help": "share of the steps warming the learning rate up"})
    class_weights: Optional[bool] = field(default=None, metadata={
        "help": "weight the loss by inverse label frequency (default: on when the largest label has 3x the "
                "articles of the smallest)"})
    fusion: Optional[bool] = field(default=None, metadata={
        "help": "blend the TF-IDF baseline trained beside the model into it (default: when that gains at least 1 "
                "dev macro-F1 point; true: always, weight fitted on dev; false: never)"})
    time_budget: float = field(default=20.0, metadata={
        "help": "minutes the run may take on this machine: unset choices are fitted into it, and training stops in "
                "time to end within it (best checkpoint kept)"})
    early_stopping_patience: int = field(default=3, metadata={"help": "evaluations without dev gain; 0 = off"})
    eval_every: Optional[int] = field(default=None, metadata={"help": "steps between dev evaluations "
                                                                     "(default: once per epoch)"})
    bf16: Optional[bool] = field(default=None, metadata={"help": "bf16 autocast (default: when the CPU/GPU has it)"})
    seed: int = field(default=0, metadata={"help": "seed of the split, the initialisation and the data order"})
    quick: bool = field(default=False, metadata={"help": "quick run: 2,000 training articles, 1,000 dev/test, "
                                                          "2 epochs, 128 tokens (explicit options still win)"})
    # output
    output_dir: str = "runs/model"
    resume: bool = field(default=False, metadata={"help": "continue from the last checkpoint in output_dir"})
    overwrite: bool = field(default=False, metadata={"help": "replace a finished model in output_dir"})

    def __post_init__(self):
        """Settings that cannot work together are refused however the config is built (command line, YAML,
        or TrainConfig(...) in Python)."""
        if self.split == "source" and not self.test_sources:
            raise UserError("--split source needs --test-sources (e.g. BBC,France24)")
        if self.split == "ids" and not self.test_ids:
            raise UserError("--split ids needs --test-ids FILE")
        if self.test_data and self.split != "random":
            raise UserError(f"--test-data is the test split: it cannot be combined with --split {self.split}")
        if self.backend is not None:
            from model.backends import check_backend

            check_backend(self.backend)
        if self.num_layers is not None and self.num_layers < 1:
            raise UserError(f"--num-layers must be at least 1 (got {self.num_layers})")
        if self.max_windows < 1:
            raise UserError(f"--max-windows must be at least 1 (got {self.max_windows})")
        if self.time_budget <= 0:
            raise UserError(f"--time-budget must be a positive number of minutes (got {self.time_budget:g})")
        if not 0 <= self.distill_weight <= 1:
            raise UserError(f"--distill-weight must be between 0 and 1 (got {self.distill_weight:g})")
        if self.distill_from and self.pseudo_labels_from:
            raise UserError("--distill-from and --pseudo-labels-from both fill labels from a teacher: give one")
        if self.read_length is not None and self.read_length < 8:
            raise UserError(f"--read-length must be at least 8 tokens (got {self.read_length})")
        if self.max_length is not None:
            check_window_overlap(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def read_config_file(path: str | Path) -> dict:
    """TrainConfig fields from a YAML file (a recipe, or a checkpoint's training_config.yaml)."""
    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: cannot read config ({exc.__class__.__name__})") from None
    unknown = set(values) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise UserError(f"{path}: unknown settings: {', '.join(sorted(unknown))}")
    # a saved model's training_config.yaml names the label map and test ids it carries beside it
    return resolve_model_paths(values, Path(path).parent)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help names each option once, dashed (HfArgumentParser also accepts --dev_data: it still parses), and
    adds a default only where the help text does not already say it and there is one."""

    def _get_help_string(self, action):
        text = action.help or ""
        if isinstance(action, argparse._StoreFalseAction):  # --no-X: says what it switches off, no default
            return text
        if "default" in text or action.default in (None, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)

    def _format_action_invocation(self, action):
        if len(action.option_strings) > 1:
            action = copy.copy(action)
            action.option_strings = [o for o in action.option_strings if "_" not in o] or action.option_strings
        return super()._format_action_invocation(action)


def parse_args(argv: list[str] | None = None, prog: str = "arabic-topics train") -> TrainConfig:
    """--config FILE supplies defaults; every other option overrides them."""
    parser = HfArgumentParser(TrainConfig, prog=prog, description="Fine-tune a topic classifier.",
                              formatter_class=HelpFormatter)
    for action in parser._actions:  # the usage line shows each option's first spelling: the dashed one
        action.option_strings.sort(key=lambda option: "_" in option)
        # an on/off setting left unset by default (chosen from the data) is still switched on by its bare flag,
        # `--class-weights`, as HfArgumentParser does for those with a default
        if action.type is string_to_bool and action.nargs is None:
            action.nargs, action.const = "?", True
        if isinstance(action, argparse._StoreFalseAction):
            action.help = f"switch off --{action.dest.replace('_', '-')}"
    parser.add_argument("--config", help="YAML file of TrainConfig fields")
    pre, _ = parser.parse_known_args(argv)
    if pre.quick:
        parser.set_defaults(**QUICK_RUN)
    if pre.config:
        parser.set_defaults(**read_config_file(pre.config))
    namespace = parser.parse_args(argv)
    config = TrainConfig(**{k: v for k, v in vars(namespace).items() if k != "config"})
    if not config.data:
        raise UserError("no training data: pass --data PATH (or data: in the --config file)")
    return config


def check_window_overlap(config: TrainConfig) -> None:
    """Each window after the first must move forward: the overlap and the repeated title share one window."""
    window = config.read_length or config.max_length
    if config.max_windows > 1 and not 0 <= config.window_overlap < (window - 2) // 2:
        raise UserError(f"--window-overlap must be between 0 and {(window - 2) // 2 - 1} for windows of "
                        f"{window} tokens (got {config.window_overlap})")
