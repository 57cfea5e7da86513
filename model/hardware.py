"""What this machine can do, decided once so training and inference agree."""
from __future__ import annotations

import functools
import glob
import os
import platform
import sys


@functools.lru_cache(maxsize=None)
def cpu_has_fast_bf16() -> bool:
    """True on CPUs with AMX, where bf16 autocast ran e5-small ~3x faster than fp32. With AVX-512 BF16 alone it
    ran 1.5x slower than fp32 (23.5 vs 35 windows/s, docs/benchmarks.md), so such CPUs keep fp32."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "amx_bf16" in flags


def cpu_threads() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity, unlike os.cpu_count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def gpu_present() -> bool:
    """Whether PyTorch would find a CUDA GPU, without importing torch where there is plainly none (no NVIDIA
    device files): a CPU-only predict never pays torch's import."""
    if "torch" not in sys.modules and not glob.glob("/dev/nvidia[0-9]*"):
        return False
    import torch

    return torch.cuda.is_available()


def default_device():
    import torch

    return torch.device("cuda" if gpu_present() else "cpu")


def bf16_available(device) -> bool:
    if device.type == "cuda":
        import torch

        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_fast_bf16()


def describe_machine() -> dict:
    """What a benchmark ran on, recorded with its figures: CPU model, cores, threads, device, versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import torch
    import transformers

    device = default_device()
    return {"cpu": cpu, "threads": cpu_threads(), "torch_threads": torch.get_num_threads(), "device": str(device),
            "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
            "fast_bf16": bf16_available(device), "torch": torch.__version__,
            "transformers": transformers.__version__, "python": platform.python_version()}
