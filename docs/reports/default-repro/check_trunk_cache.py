"""Is the reused trunk cache what the recipe would compute today? Re-encode a stratified sample of the recipe's
articles through the frozen layers, from the base, and compare with the cached hidden states.

python docs/reports/default-repro/check_trunk_cache.py ../shared/datasets/ant-multisource-v2.1 [N]
"""
import sys

import numpy as np
import torch
from safetensors import safe_open

from training.config import parse_args
from training.frozen_trunk import FrozenTrunk, cache_file_for, cache_key
from training.data import encode_splits, label_set, load_splits, topic_settings
from training.train import build_model, resolve_bf16

data, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300
config = parse_args(["--config", "training/recipes/default.yaml", "--data", data, "--max-train-samples", str(n),
                      "--max-eval-samples", "1", "--output-dir", "runs/unused"])
splits, summary = load_splits(config)
labels, multi_label, _ = label_set(splits, summary)
model, tokenizer, prefix, base_path = build_model(config, labels, multi_label)
encoded = encode_splits(splits, tokenizer, topic_settings(config, prefix, multi_label, summary), labels,
                        config.use_title)
ids = list(encoded["train"]["input_ids"])
bf16 = resolve_bf16(config)
fresh = FrozenTrunk(model, config.freeze_layers).encode(ids, bf16, pad_id=tokenizer.pad_token_id)
cache = cache_file_for(config.feature_cache, base_path, config.freeze_layers, bf16)
diffs, cosines, missing = [], [], 0
with safe_open(str(cache), framework="pt") as stored:
    keys = set(stored.keys())
    for x, h in zip(ids, fresh):
        key = cache_key(x)
        if key not in keys:
            missing += 1
            continue
        c = stored.get_tensor(key).float()
        diffs.append((c - h.float()).abs().max().item())
        cosines.append(torch.nn.functional.cosine_similarity(c, h.float(), dim=-1).min().item())
print(f"cache {cache}: {len(diffs)} of {len(ids)} articles found ({missing} missing); "
      f"max |cached - fresh| {max(diffs):.4g} (median over articles {np.median(diffs):.4g}); "
      f"min token cosine {min(cosines):.6f}; identical articles {sum(d == 0 for d in diffs)}")
