"""The one timing helper the benchmark scripts share (they run as `python benchmarks/<script>.py`,
so this folder is on their import path)."""

import time
from pathlib import Path

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


def record(name: str, command: str, rows: list[dict], device: torch.device) -> None:
    """Keep a benchmark's printed results in data/results/benchmarks.json (the appendix shows them),
    with the command that printed them and the machine it ran on. The file is this checkout's, also
    when PYTHONPATH points the timed code at another checkout."""
    from augrnn.core import io, provenance

    path = Path(__file__).resolve().parents[1] / "data" / "results" / "benchmarks.json"
    recorded = io.read_json(path) if path.exists() else {}
    recorded[f"{name} ({device.type})"] = {
        "command": command,
        "rows": rows,
        "hardware": provenance.hardware(device),
        "torch": torch.__version__,
        "date": provenance.now()[:10],
    }
    io.write_json(path, recorded)
