"""The one timing helper the benchmark scripts share (they run as `python benchmarks/<script>.py`,
so this folder is on their import path)."""

import time

import torch


def timeit(fn, device: torch.device, seconds: float) -> float:
    """Seconds per call of `fn`, after one warm-up call, over about `seconds` of calls; on CUDA the
    queue is drained before and after so the time is the GPU's, not the launch's."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    fn()
    sync()
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    sync()
    return (time.perf_counter() - t0) / n
