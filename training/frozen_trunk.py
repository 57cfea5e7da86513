"""Train only the top of the encoder: run the frozen lower part once per article and train on its outputs.

With the embeddings and the lower `k` layers frozen, their output for an article never changes during
training, yet a plain fine-tune recomputes it at every step of every epoch. We compute it once (bf16, no
gradient, sorted by length), keep it in memory, and give the Trainer a *view* of the same model whose
embedding module passes those hidden states through and whose encoder holds only the upper layers. The view
shares its parameters with the full model, so training the view trains the model; `reattach()` restores the
full model for saving and inference. Dropout inside the frozen layers is the only thing this leaves out.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn
from tqdm.auto import tqdm


class PassThroughEmbeddings(nn.Module):
    """Stands in for the embedding module: the cached hidden states arrive as `inputs_embeds`."""

    def forward(self, inputs_embeds=None, **unused):
        return inputs_embeds


class FrozenTrunk:
    def __init__(self, model, n_frozen: int):
        self.model = model
        self.encoder = model.base_model.encoder
        self.layers = self.encoder.layer
        if not 0 < n_frozen < len(self.layers):
            raise ValueError(f"freeze_layers must be between 1 and {len(self.layers) - 1} to cache the trunk")
        self.n_frozen = n_frozen
        self.embeddings = model.base_model.embeddings

    @torch.inference_mode()
    def encode(self, input_ids: list[list[int]], bf16: bool, batch_size: int = 64,
               pad_id: int = 0, progress=None) -> list[torch.Tensor]:
        """Hidden states after the frozen layers, one (length, hidden) bf16 tensor per article."""
        order = sorted(range(len(input_ids)), key=lambda i: len(input_ids[i]))
        out: list[torch.Tensor | None] = [None] * len(input_ids)
        device = next(self.model.parameters()).device
        autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        was_training = self.model.training
        self.model.eval()
        self.encoder.layer = self.layers[: self.n_frozen]
        try:
            with autocast:
                for start in range(0, len(order), batch_size):
                    idx = order[start : start + batch_size]
                    longest = max(len(input_ids[i]) for i in idx)
                    ids = torch.full((len(idx), longest), pad_id, dtype=torch.long)
                    mask = torch.zeros_like(ids)
                    for row, i in enumerate(idx):
                        ids[row, : len(input_ids[i])] = torch.tensor(input_ids[i])
                        mask[row, : len(input_ids[i])] = 1
                    hidden = self.model.base_model(input_ids=ids.to(device),
                                                   attention_mask=mask.to(device)).last_hidden_state
                    for row, i in enumerate(idx):
                        out[i] = hidden[row, : len(input_ids[i])].to(torch.bfloat16).cpu()
                    if progress:
                        progress.update(len(idx))
        finally:
            self.encoder.layer = self.layers
            self.model.train(was_training)
        return out

    def detach(self):
        """Turn the model into its trainable top: hidden states in, logits out."""
        self.model.base_model.embeddings = PassThroughEmbeddings()
        self.encoder.layer = self.layers[self.n_frozen :]
        return self.model

    def reattach(self):
        self.model.base_model.embeddings = self.embeddings
        self.encoder.layer = self.layers
        return self.model


def trunk_features(trunk: FrozenTrunk, input_ids: list[list[int]], bf16: bool, pad_id: int,
                   cache_file: Path | None = None, write_cache: bool = True) -> list[torch.Tensor]:
    """Trunk outputs for each article; with `cache_file`, articles already encoded by an earlier run (same
    base, frozen depth and token ids) are read back instead of recomputed, and new ones are added to it
    (unless `write_cache` is false: in a distributed run only the main process writes it)."""
    keys = [cache_key(ids) for ids in input_ids]
    found: dict[str, torch.Tensor] = {}
    if cache_file and cache_file.is_file():
        with safe_open(str(cache_file), framework="pt") as stored:
            wanted = set(keys) & set(stored.keys())
            found = {key: stored.get_tensor(key) for key in wanted}
    todo = {key: ids for key, ids in zip(keys, input_ids) if key not in found}
    if todo:
        with tqdm(total=len(todo), desc=f"frozen layers 1-{trunk.n_frozen}", unit="doc") as bar:
            new = trunk.encode(list(todo.values()), bf16, pad_id=pad_id, progress=bar)
        found.update(zip(todo, new))
        if cache_file and write_cache:
            _add_to_cache(cache_file, dict(zip(todo, new)))
    return [found[key] for key in keys]


def cache_key(input_ids: list[int]) -> str:
    """An article's entry in the cache: its token ids, so a changed text, prefix or max length is a new entry."""
    return hashlib.sha1(np.asarray(input_ids, dtype=np.int32).tobytes()).hexdigest()


def _add_to_cache(cache_file: Path, new: dict[str, torch.Tensor]) -> None:
    merged = dict(new)
    if cache_file.is_file():
        with safe_open(str(cache_file), framework="pt") as stored:
            merged.update({key: stored.get_tensor(key) for key in stored.keys() if key not in new})
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_name(cache_file.name + ".tmp")
    save_file({key: value.contiguous() for key, value in merged.items()}, str(tmp))
    os.replace(tmp, cache_file)  # an interrupted write never replaces a good cache


def cache_file_for(folder: str | Path, base_path: str, n_frozen: int, bf16: bool) -> Path:
    """One cache file per (base weights, frozen depth, precision): a changed base file gets a new cache."""
    weights = Path(base_path) / "model.safetensors"
    stamp = f"{Path(base_path).resolve()}|{n_frozen}|{bf16}"
    if weights.is_file():
        stat = weights.stat()
        stamp += f"|{stat.st_size}|{stat.st_mtime_ns}"
    return Path(folder) / f"trunk-{hashlib.sha1(stamp.encode()).hexdigest()[:16]}.safetensors"


class CachedFeatures(torch.utils.data.Dataset):
    """Trunk outputs and labels, as a dataset the Trainer can batch."""

    def __init__(self, hidden: list[torch.Tensor], labels, label_mask=None):
        self.hidden, self.labels = hidden, list(labels)
        self.label_mask = list(label_mask) if label_mask is not None else None

    def __len__(self):
        return len(self.hidden)

    def __getitem__(self, i):
        # named after the forward argument it becomes, so the Trainer's column filter keeps it
        item = {"inputs_embeds": self.hidden[i], "labels": self.labels[i]}
        if self.label_mask is not None:
            item["label_mask"] = self.label_mask[i]
        return item


def collate_features(items: list[dict]) -> dict:
    """Pad the hidden states of a batch to its longest article (fp32: the trainable layers' dtype)."""
    longest = max(item["inputs_embeds"].shape[0] for item in items)
    width = items[0]["inputs_embeds"].shape[1]
    embeds = torch.zeros(len(items), longest, width)
    mask = torch.zeros(len(items), longest, dtype=torch.long)
    for row, item in enumerate(items):
        n = item["inputs_embeds"].shape[0]
        embeds[row, :n] = item["inputs_embeds"].float()
        mask[row, :n] = 1
    batch = {"inputs_embeds": embeds, "attention_mask": mask,
             "labels": torch.tensor([item["labels"] for item in items])}
    if "label_mask" in items[0]:
        batch["label_mask"] = torch.tensor([item["label_mask"] for item in items])
    return batch
