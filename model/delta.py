"""Light model directories: only the weights training changed, rebuilt on top of their base at load time.

A fine-tune with frozen embeddings and lower layers changes a few million of e5-small's 118M parameters. A
delta directory keeps those tensors (fp16 `delta.safetensors`), the model's config.json (with id2label),
topic_config.json, and `delta.json` naming the base and the sha256 of the base weights the delta was trained
on. Loading rebuilds the base (offline for the e5-small preset), checks that checksum, and overlays the
delta, so a shipped model is a few MB instead of ~470 MB and cannot silently run on the wrong base.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from . import offline_e5
from .quiet import head_restored_after
from .atomic import atomic_directory
from .bases import resolve_base
from .errors import UserError

DELTA_MANIFEST = "delta.json"
DELTA_WEIGHTS = "delta.safetensors"
FORMAT_VERSION = 1


def is_delta(path: Path) -> bool:
    return (Path(path) / DELTA_MANIFEST).is_file()


def base_weights_sha256(base: str) -> tuple[str, str]:
    """(local path of the base, sha256 of its model.safetensors). The e5-small preset is verified against
    its build manifest on the way, so its recorded checksum is the file's."""
    path, _ = resolve_base(base)
    if base == offline_e5.PRESET_NAME:
        manifest = json.loads((Path(path) / offline_e5.MANIFEST).read_text())
        return path, manifest["files"]["model.safetensors"]
    weights = Path(path) / "model.safetensors"
    if not weights.is_file():
        from transformers.utils import cached_file

        weights = Path(cached_file(base, "model.safetensors"))
    return path, offline_e5.sha256_file(weights)


def changed_tensors(model, base_path: str) -> dict[str, torch.Tensor]:
    """Tensors of `model` that differ from (or are absent in) the same architecture loaded from the base."""
    with head_restored_after():  # the base lacks the head, which is exactly what makes it differ
        reference = AutoModelForSequenceClassification.from_pretrained(base_path, config=model.config).state_dict()
    return {name: tensor for name, tensor in model.state_dict().items()
            if not (name in reference and torch.equal(reference[name], tensor))}


def save_delta(model, settings_json: str, base: str, out: Path, extra_files: list[Path] = ()) -> Path:
    """Write a delta directory for `model` (trained from `base`) atomically: built in a temporary folder
    next to `out`, then renamed into place."""
    base_path, base_sha = base_weights_sha256(base)
    delta = changed_tensors(model, base_path)
    with atomic_directory(out) as tmp:
        model.config.save_pretrained(tmp)
        save_file({k: v.detach().to(torch.float16).contiguous() for k, v in delta.items()},
                  str(tmp / DELTA_WEIGHTS), metadata={"format": "pt"})
        (tmp / "topic_config.json").write_text(settings_json)
        (tmp / DELTA_MANIFEST).write_text(json.dumps({
            "format_version": FORMAT_VERSION, "base": base, "base_weights_sha256": base_sha,
            "tensors": len(delta), "parameters": sum(v.numel() for v in delta.values())}, indent=2))
        for item in extra_files:
            (shutil.copytree if Path(item).is_dir() else shutil.copy2)(item, tmp / Path(item).name)
    return Path(out)


def load_delta(path: Path):
    """(model, tokenizer) of a delta directory, on its checksum-verified base."""
    path = Path(path)
    manifest = json.loads((path / DELTA_MANIFEST).read_text())
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise UserError(f"{path} was written by a newer arabic-news-topics (delta format "
                        f"{manifest['format_version']}); upgrade the package to load it")
    try:
        base_path, base_sha = base_weights_sha256(manifest["base"])
    except (OSError, offline_e5.OfflineBaseError) as exc:
        raise UserError(f"{path}: cannot get its base encoder {manifest['base']!r}: {exc}") from None
    if base_sha != manifest["base_weights_sha256"]:
        raise UserError(f"{path}: base encoder {manifest['base']!r} at {base_path} has checksum {base_sha[:12]}…, "
                        f"the model was trained on {manifest['base_weights_sha256'][:12]}…; refusing to load")
    try:
        delta = load_file(str(path / DELTA_WEIGHTS))
    except Exception as exc:  # safetensors raises its own error types for truncated or corrupt files
        raise UserError(f"{path / DELTA_WEIGHTS}: unreadable weights ({exc})") from None
    config = AutoConfig.from_pretrained(path)
    with head_restored_after():  # the delta holds the head; `uncovered` below refuses any other gap
        model, info = AutoModelForSequenceClassification.from_pretrained(base_path, config=config,
                                                                         output_loading_info=True)
    state = model.state_dict()
    unknown = [k for k in delta if k not in state or state[k].shape != delta[k].shape]
    uncovered = [k for k in info["missing_keys"] if k not in delta]
    if unknown or uncovered:
        raise UserError(f"{path}: delta does not fit its base ({len(unknown)} unknown or mis-shaped tensors, "
                        f"{len(uncovered)} base tensors left uninitialised)")
    model.load_state_dict({k: v.to(state[k].dtype) for k, v in delta.items()}, strict=False)
    return model, AutoTokenizer.from_pretrained(base_path)
