"""Where torch models run, and how many CPU threads they may use."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from pathlib import Path

import torch

_threads_configured = threading.Lock()
_configured = False
_cpu_compute = threading.Lock()


def pick_device(device: str | None = None) -> torch.device:
    """The requested device, else CUDA when present, else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_budget() -> int:
    """CPUs this process may really use: affinity mask and cgroup quota (containers), not the host's count."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, count)


def configure_cpu_threads() -> int:
    """Cap torch's intra-op threads at the CPU budget, once per process (more threads than CPUs only thrash).

    Returns the thread count in effect.
    """
    global _configured
    with _threads_configured:
        if not _configured:
            budget = cpu_budget()
            if torch.get_num_threads() > budget:
                torch.set_num_threads(budget)
            _configured = True
    return torch.get_num_threads()


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """True when the CPU computes bfloat16 natively (AVX512-BF16 or AMX): there bf16 is about twice as fast as fp32."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def exclusive_compute(device: torch.device) -> contextlib.AbstractContextManager:
    """Hold while running a model on the CPU; a no-op on other devices.

    Torch CPU ops from two Python threads each start a full OpenMP team, and with as many threads as cores
    the teams thrash: measured on 2 cores, the ingest pipeline (TransNetV2 in one thread, ViT-B-32 in the
    other) took 1.4× as long as running the two one after the other. Taking turns keeps every op at full
    speed, while work outside torch (PyAV decoding and encoding) still overlaps.
    """
    return _cpu_compute if device.type == "cpu" else contextlib.nullcontext()
