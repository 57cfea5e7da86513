"""How the encoder of a classifier is run: the inference backends and the ONNX export.

Every backend takes the same padded token-id batches and returns logits, so windows, aggregation and
thresholds above it are shared:
- fp32: plain PyTorch, the reference.
- bf16: PyTorch under bf16 autocast; ~3x fp32 on CPUs with AMX, slower than fp32 without (docs/benchmarks.md).
- onnx: ONNX Runtime, fp32 graph exported from the same weights.
- onnx-int8: ONNX Runtime with dynamic int8 quantisation (weights int8 per output channel, the embedding
  matrix included; activations quantised per tensor, and each window runs alone, so per window).
Which one is the default on a machine is decided in `default_backend` from the measurements in
docs/benchmarks.md, not assumed.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from . import offline_e5
from .errors import UserError
from .hardware import cpu_has_fast_bf16, cpu_threads, gpu_present

BACKENDS = ("fp32", "bf16", "onnx", "onnx-int8")
ONNX_FILE = "model.onnx"
EXPORT_VERSION = 2  # raised when an export of the same weights changes (2: int8 per channel)
EXPORT_MANIFEST = "export.json"


def default_backend(device=None, preferred: str = "") -> str:
    """The backend predict uses when none is asked for. On a GPU: bf16 where it runs bf16, else fp32. On a
    CPU: the model's own measured choice (TopicSettings.backend: the shipped model runs onnx-int8,
    docs/benchmarks.md) or else bf16 with AMX, fp32 without (where bf16 autocast is 1.5x slower than fp32, and
    a 12-layer model lost 1.4 macro-F1 points under dynamic int8). device: a torch.device or its name; None:
    a GPU when one is present, else the CPU."""
    kind = str(device).split(":")[0] if device is not None else ("cuda" if gpu_present() else "cpu")
    if kind != "cpu":
        import torch

        return "bf16" if kind == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if preferred:
        return check_backend(preferred)
    return "bf16" if cpu_has_fast_bf16() else "fp32"


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")
    return name


class TorchRunner:
    """A PyTorch model, optionally under bf16 autocast. In fp32 a padded batch gives each window the scores it
    gets alone (within 1e-6); under bf16 the kernels chosen for a padded shape round differently (up to 3e-3
    in probability), so there each window runs alone, unpadded, and scores the same in any batch."""

    def __init__(self, model, device, bf16: bool):
        self.model, self.device, self.bf16 = model.to(device).eval(), device, bf16

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        if self.bf16:
            return np.concatenate([self._run(ids[None, : int(mask.sum())], mask[None, : int(mask.sum())])
                                   for ids, mask in zip(input_ids, attention_mask)])
        return self._run(input_ids, attention_mask)

    def _run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            logits = self.model(input_ids=torch.from_numpy(input_ids).to(self.device),
                                attention_mask=torch.from_numpy(attention_mask).to(self.device)).logits
        return logits.float().cpu().numpy()


class OnnxRunner:
    """An exported graph under ONNX Runtime, with one intra-op thread per core this process may use. Each
    window runs alone, unpadded: dynamic int8 quantises activations with one scale per tensor, so windows run
    together would share a scale and a window's scores would depend on what shares its batch (up to 0.16 in
    probability, in slices of 8). Alone, an article scores the same in any batch and order, and on 2 cores
    it ran within 4 % of slices of 8 (docs/benchmarks.md)."""

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or cpu_threads()
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own error types for truncated or foreign files
            raise UserError(f"{path}: cannot load the ONNX model ({exc.__class__.__name__})") from None

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        out = []
        for ids, mask in zip(input_ids, attention_mask):
            used = int(mask.sum())
            feeds = {"input_ids": ids[None, :used].astype(np.int64), "attention_mask": mask[None, :used].astype(np.int64)}
            out.append(self.session.run(["logits"], feeds)[0].astype(np.float32))
        return np.concatenate(out)


def export_onnx(model, path: Path, int8: bool) -> None:
    """Write `model` as an ONNX graph with dynamic batch and length at `path`; with int8, dynamically
    quantised by ONNX Runtime. The TorchScript exporter is used: it handles XLM-R's position ids computed
    from the input ids, and needs no extra packages."""
    import torch

    model = model.float().eval().cpu()
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 5, 6, 2, 1]])
    fp32 = path if not int8 else path.with_suffix(".fp32.onnx")
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's warnings about Python control flow are expected here
        torch.onnx.export(model, (ids, (ids != 1).long()), str(fp32), input_names=["input_ids", "attention_mask"],
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "length"},
                                        "attention_mask": {0: "batch", 1: "length"}, "logits": {0: "batch"}})
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # it logs "consider pre-processing" (advice for CNNs) on the root logger
        try:
            # per channel: one scale per output row of each weight matrix; per tensor, the 4-layer student lost
            # 1.1 topic macro-F1 points against fp32, per channel none (docs/benchmarks.md)
            quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
        fp32.unlink()


def weights_digest(model_dir: Path) -> str:
    """sha256 of a model directory's weight, config and reading files: the key of its cached ONNX exports."""
    digest = hashlib.sha256()
    for name in ("model.safetensors", "delta.safetensors", "delta.json", "config.json", "topic_config.json"):
        if (model_dir / name).is_file():
            digest.update(name.encode())
            digest.update(offline_e5.sha256_file(model_dir / name).encode())
    return digest.hexdigest()[:16]


def write_export_manifest(folder: Path) -> None:
    """Record the sha256 of an export's graph, so that a cached export damaged later is rebuilt, not run; and
    its size and mtime, so that a load which finds both unchanged need not read the graph to hash it (the
    default and its two companions' graphs are 0.7 GB: hashing them took 0.45 s of a headline's start-up)."""
    graph = folder / ONNX_FILE
    stat = graph.stat()
    manifest = json.dumps({ONNX_FILE: offline_e5.sha256_file(graph), "size": stat.st_size,
                           "mtime_ns": stat.st_mtime_ns})
    staged = folder / f".{EXPORT_MANIFEST}.{os.getpid()}"  # replaced in one step: a reader never sees half
    staged.write_text(manifest)
    os.replace(staged, folder / EXPORT_MANIFEST)


def export_ready(folder: Path) -> bool:
    """Whether a cached export is complete and its graph is the one that was written: the same size and mtime
    as recorded, or else the same sha256."""
    try:
        manifest = json.loads((folder / EXPORT_MANIFEST).read_text())
        stat = (folder / ONNX_FILE).stat()
        if (manifest.get("size"), manifest.get("mtime_ns")) == (stat.st_size, stat.st_mtime_ns):
            return True
        if offline_e5.sha256_file(folder / ONNX_FILE) != manifest[ONNX_FILE]:
            return False
        with contextlib.suppress(OSError):  # a read-only cache still serves; it is only hashed on every load
            write_export_manifest(folder)  # the graph checked out: record its size and mtime for the next load
        return True
    except (OSError, ValueError, KeyError, AttributeError):  # AttributeError: a manifest that is not an object
        return False


def onnx_cache_dir(model_dir: Path, backend: str) -> Path:
    """Where `--backend onnx[-int8]` keeps the export of a PyTorch model directory, so it is made once."""
    return offline_e5.cache_root() / "onnx" / f"{weights_digest(model_dir)}-{backend}-v{EXPORT_VERSION}"

