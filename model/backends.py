"""How the encoder of a classifier is run: the inference backends and the ONNX export.

Every backend takes the same padded token-id batches and returns logits, so windows, aggregation and
thresholds above it are shared:
- fp32: plain PyTorch, the reference.
- bf16: PyTorch under bf16 autocast; ~3x fp32 on CPUs with AMX, slower than fp32 without (docs/benchmarks.md).
- onnx: ONNX Runtime, fp32 graph exported from the same weights.
- onnx-int8: ONNX Runtime with dynamic int8 quantisation of the linear layers (weights int8, activations
  quantised per batch).
Which one is the default on a machine is decided in `default_backend` from the measurements in
docs/benchmarks.md, not assumed.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from . import offline_e5
from .errors import UserError
from .hardware import bf16_available, cpu_threads

BACKENDS = ("fp32", "bf16", "onnx", "onnx-int8")
ONNX_FILE = "model.onnx"


def default_backend(device: torch.device) -> str:
    """bf16 where the hardware runs it fast (AMX, or a GPU with bf16), else fp32: on a CPU without AMX, fp32
    was the fastest backend within 0.5 macro-F1 point of itself (onnx-int8 was faster but lost 1.4 points;
    docs/benchmarks.md)."""
    return "bf16" if bf16_available(device) else "fp32"


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")
    return name


class TorchRunner:
    """A PyTorch model, optionally under bf16 autocast."""

    def __init__(self, model, device: torch.device, bf16: bool):
        self.model, self.device, self.bf16 = model.to(device).eval(), device, bf16

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            logits = self.model(input_ids=torch.from_numpy(input_ids).to(self.device),
                                attention_mask=torch.from_numpy(attention_mask).to(self.device)).logits
        return logits.float().cpu().numpy()


class OnnxRunner:
    """An exported graph under ONNX Runtime, with one intra-op thread per core this process may use."""

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or cpu_threads()
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own error types for truncated or foreign files
            raise UserError(f"{path}: cannot load the ONNX model ({exc.__class__.__name__})") from None

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids.astype(np.int64), "attention_mask": attention_mask.astype(np.int64)}
        return self.session.run(["logits"], feeds)[0].astype(np.float32)


def export_onnx(model, path: Path, int8: bool) -> None:
    """Write `model` as an ONNX graph with dynamic batch and length at `path`; with int8, dynamically
    quantised by ONNX Runtime. The TorchScript exporter is used: it handles XLM-R's position ids computed
    from the input ids, and needs no extra packages."""
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
            quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        fp32.unlink()


def weights_digest(model_dir: Path) -> str:
    """sha256 of a model directory's weight and config files: the key of its cached ONNX exports."""
    digest = hashlib.sha256()
    for name in ("model.safetensors", "delta.safetensors", "config.json"):
        if (model_dir / name).is_file():
            with open(model_dir / name, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def onnx_cache_dir(model_dir: Path, backend: str) -> Path:
    """Where `--backend onnx[-int8]` keeps the export of a PyTorch model directory, so it is made once."""
    return offline_e5.cache_root() / "onnx" / f"{weights_digest(model_dir)}-{backend}"

