"""Training configuration: one dataclass, loadable from YAML and overridable on the command line.

    arabic-topics train --config recipe.yaml --epochs 2 --max-length 128
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import yaml
from transformers import HfArgumentParser

from model import UserError


QUICK_RUN = {"max_train_samples": 2000, "max_eval_samples": 1000, "epochs": 2.0, "max_length": 128}


@dataclass
class TrainConfig:
    # data
    data: Optional[str] = field(default=None, metadata={"help": "corpus folder or CSV/TSV/JSONL file"})
    format: Literal["auto", "ant", "folders", "table"] = "auto"
    text_column: str = "text"
    title_column: Optional[str] = None
    label_column: str = "label"
    id_column: Optional[str] = None
    source_column: Optional[str] = None
    label_map: Optional[str] = field(default=None, metadata={"help": "label-mapping YAML"})
    conflicts: Literal["first", "drop"] = field(
        default="first", metadata={"help": "duplicate bodies with different labels: keep the first, or drop all"})
    annotations: Optional[str] = field(default=None, metadata={
        "help": "JSONL of extra 0/1 labels per article id (partial multi-label: unknown labels are masked)"})
    pseudo_labels_from: Optional[str] = field(default=None, metadata={
        "help": "teacher model directory: fills the unknown labels of training articles with its predictions"})
    split: Literal["random", "source", "ids"] = "random"
    test_sources: Optional[str] = field(default=None, metadata={"help": "comma-separated outlets held out"})
    test_ids: Optional[str] = field(default=None, metadata={"help": "file of article ids forming the test split "
                                                                  "(--split ids), or added to the random test split"})
    dev_size: float = 0.1
    test_size: float = 0.1
    max_train_samples: Optional[int] = field(default=None, metadata={"help": "stratified subsample, quick runs"})
    max_eval_samples: Optional[int] = field(default=None, metadata={"help": "cap dev and test sizes"})
    use_title: bool = True
    # model
    base: str = field(default="e5-small", metadata={"help": "e5-small (offline preset), hub id or path"})
    max_length: int = 256
    freeze_embeddings: Optional[bool] = field(
        default=None, metadata={"help": "freeze the word-embedding matrix (default: on when training on CPU)"})
    freeze_layers: int = field(default=0, metadata={
        "help": "also freeze this many lower encoder layers; their outputs are then computed once per article"})
    feature_cache: Optional[str] = field(default=None, metadata={
        "help": "folder keeping the frozen layers' outputs, reused by later runs on the same articles"})
    # How the saved model reads articles longer than max_length at prediction time (training always sees the
    # head). `arabic-topics evaluate --long-articles --apply` chooses it on dev; a recipe pins that choice so a
    # rerun saves the model exactly as shipped.
    max_windows: int = field(default=1, metadata={"help": "windows read per long article when predicting "
                                                           "(1 = the head only)"})
    window_overlap: int = field(default=32, metadata={"help": "tokens shared by consecutive windows"})
    aggregate: Literal["mean", "max"] = field(default="mean", metadata={"help": "how window logits combine"})
    title_in_every_window: bool = field(default=True, metadata={"help": "repeat the title in every window"})
    # optimisation
    epochs: float = 3.0
    learning_rate: float = 5e-5
    batch_size: int = 16
    eval_batch_size: int = 64
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    class_weights: bool = field(default=False, metadata={"help": "weight the loss by inverse label frequency"})
    early_stopping_patience: int = field(default=3, metadata={"help": "evaluations without dev gain; 0 = off"})
    eval_every: Optional[int] = field(default=None, metadata={"help": "steps between dev evaluations "
                                                                     "(default: once per epoch)"})
    bf16: Optional[bool] = field(default=None, metadata={"help": "bf16 autocast (default: when the CPU/GPU has it)"})
    seed: int = 0
    quick: bool = field(default=False, metadata={"help": "quick run: 2,000 training articles, 1,000 dev/test, "
                                                          "2 epochs, 128 tokens (explicit options still win)"})
    # output
    output_dir: str = "runs/model"
    resume: bool = field(default=False, metadata={"help": "continue from the last checkpoint in output_dir"})
    overwrite: bool = field(default=False, metadata={"help": "replace a finished model in output_dir"})

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
    return values


def parse_args(argv: list[str] | None = None, prog: str = "arabic-topics train") -> TrainConfig:
    """--config FILE supplies defaults; every other option overrides them."""
    parser = HfArgumentParser(TrainConfig, prog=prog, description="Fine-tune a topic classifier.")
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
    if config.split == "source" and not config.test_sources:
        raise UserError("--split source needs --test-sources (e.g. BBC,France24)")
    if config.split == "ids" and not config.test_ids:
        raise UserError("--split ids needs --test-ids FILE")
    if config.max_windows < 1:
        raise UserError(f"--max-windows must be at least 1 (got {config.max_windows})")
    # each window after the first must move forward: the overlap and the repeated title share one window
    if config.max_windows > 1 and not 0 <= config.window_overlap < (config.max_length - 2) // 2:
        raise UserError(f"--window-overlap must be between 0 and {(config.max_length - 2) // 2 - 1} for "
                        f"--max-length {config.max_length} (got {config.window_overlap})")
    return config
