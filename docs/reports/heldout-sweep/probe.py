"""A linear probe on frozen e5-small across outlets: the held-out sweep's split (5 topics, CNN held out, the
4,000-article subsample of the other outlets at SEED), every article read once by the whole 12-layer encoder
(the string the classifier reads, `prepare_text`: e5's prefix, the normalised title and body; first 128 tokens), its layer-8, -10 and -12 states pooled two ways
(the first token, which the sequence-classification head reads, or the mean over tokens, which e5 was trained
with), and a logistic regression on the standardised features for each C. C is chosen on dev; CNN is printed
for every C so the choice can be checked, never made, on it. Features are cached in CACHE (one .npz per split).

    python docs/reports/heldout-sweep/probe.py ../shared/datasets/ant-multisource-v2.1 0 runs/probe \\
        > docs/reports/heldout-sweep/probe-seed0.json
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from transformers import AutoModel, PreTrainedTokenizerFast

from model.bases import resolve_base
from model.classifier import TopicSettings, prepare_text
from model.normalize import NormalizerConfig
from training.config import parse_args
from training.data import load_splits

LAYERS = (8, 10, 12)
CS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 10.0)
data, seed, cache = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
cache.mkdir(parents=True, exist_ok=True)
config = parse_args(["--config", "training/recipes/default.yaml", "--data", data, "--split", "source",
                     "--test-sources", "CNN", "--max-train-samples", "4000", "--seed", str(seed),
                     "--output-dir", str(cache / "unused")])
splits, _ = load_splits(config)
path, prefix = resolve_base(config.base)
reading = TopicSettings(normalizer=NormalizerConfig(), text_prefix=prefix)  # as training reads (train.py)
tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
encoder = AutoModel.from_pretrained(path).eval()


def features(split: str) -> dict:
    """{"cls8": array, "mean8": array, ...}: one row per article of the split."""
    file = cache / f"{split}-seed{seed}.npz"
    if file.exists():
        return dict(np.load(file))
    ds = splits[split]
    texts = [prepare_text(text, title, reading) for text, title in zip(ds["text"], ds["title"])]
    width = encoder.config.hidden_size
    out = {f"{k}{layer}": np.zeros((len(texts), width), np.float32) for k in ("cls", "mean") for layer in LAYERS}
    order = np.argsort([len(t) for t in texts])
    for start in range(0, len(texts), 32):
        idx = order[start:start + 32]
        batch = tokenizer([texts[i] for i in idx], truncation=True, max_length=128, padding=True,
                          return_tensors="pt")
        with torch.no_grad():
            states = encoder(**batch, output_hidden_states=True).hidden_states
        mask = batch["attention_mask"].unsqueeze(-1).float()
        for layer in LAYERS:
            out[f"cls{layer}"][idx] = states[layer][:, 0].numpy()
            out[f"mean{layer}"][idx] = ((states[layer] * mask).sum(1) / mask.sum(1)).numpy()
    np.savez(file, **out)
    return out


feats = {split: features(split) for split in ("train", "dev", "test")}
labels = sorted(set(splits["train"]["label"]))
gold = {split: np.array([labels.index(x) for x in splits[split]["label"]]) for split in feats}
results = {}
for name in feats["train"]:
    train = feats["train"][name]
    mean, std = train.mean(0), train.std(0) + 1e-6
    rows = []
    for c in CS:
        probe = LogisticRegression(C=c, max_iter=3000).fit((train - mean) / std, gold["train"])
        row = {"C": c}
        for split in ("dev", "test"):
            predicted = probe.predict((feats[split][name] - mean) / std)
            row[f"{split}_macro_f1"] = round(f1_score(gold[split], predicted, average="macro",
                                                     labels=range(len(labels))), 4)
        rows.append(row)
    chosen = max(rows, key=lambda r: r["dev_macro_f1"])
    results[name] = {"chosen_on_dev": chosen, "every_C": rows}
print(json.dumps({"seed": seed, "articles": {s: len(splits[s]) for s in feats}, "labels": labels,
                  "results": results}, indent=1))
