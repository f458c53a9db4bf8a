"""Where each chapter's training step spends its time: in matrix products, the arithmetic any
implementation of the same model does, or in everything else (element-wise work, copies, and the
per-operation cost of torch's dispatcher, autograd and Python). The ratio of the step's time to its
products' time is the most a rewrite that keeps the products could gain on this machine: the
distance to the floor.

    .venv/bin/python benchmarks/floor.py [--only act/parity ...] [--threads 1] [--record]

Each experiment of train_step.py (its full-scale config, the same batches and steps) is timed as
there, then profiled (torch.profiler) over the same steps on a fresh model from the same
initialisation, eagerly and with the experiment's torch.compile where it has one. The products' time
is their self time in the profile; the step's is the unprofiled one. "matrix products" counts the
aten products (mm, bmm, addmm, baddbmm), the oneDNN kernels of the LSTM layers and convolutions,
and their backward calls; a compiled graph's own kernels count as everything else. Prints; asserts
nothing.
"""

import argparse
import shlex
import statistics
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from augrnn.book.chapters import CHAPTERS
from augrnn.core.devices import pick_device
from timing import record
from train_step import HERE, RUNS, STORED, fresh_model, steps_per_second

PRODUCTS = {
    "aten::mm",
    "aten::bmm",
    "aten::addmm",
    "aten::baddbmm",
    "aten::addbmm",
    "aten::mkldnn_rnn_layer",
    "aten::mkldnn_rnn_layer_backward",
    "aten::mkldnn_convolution",
    "aten::convolution_backward",
}


def profiled(exp, cfg, device, steps, first_step, compile_, weights=None) -> tuple[float, float]:
    """(products' seconds per step, aten calls per step) over `steps` steps of a fresh model (or one
    from the stored weights at the path `weights`)."""
    prof = profile(activities=[ProfilerActivity.CPU])
    model = fresh_model(exp, cfg, device, compile_, weights)
    steps_per_second(exp, cfg, model, device, steps, first_step, around=lambda: prof)
    events = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    products = sum(e.self_cpu_time_total for e in events if e.key in PRODUCTS) * 1e-6
    return products / steps, sum(e.count for e in events) / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None, help="labels, e.g. ntm/copy act/parity")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="unprofiled timings per mode (median)")
    ap.add_argument("--first-step", type=int, default=2000)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--record", action="store_true", help="keep the results in data/results/benchmarks.json")
    ap.add_argument("--label", default="", help="recorded under '..., LABEL', beside the table without one")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device("cpu")  # the profile counts CPU time: on a GPU it would time the launches
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__}")
    heads = ("ms/step", 8), ("products", 9), ("share", 6), ("aten/step", 9), ("bound", 6)
    print(f"{'experiment':24s} {'mode':9s} " + " ".join(f"{h:>{w}s}" for h, w in heads))
    rows = []
    runs = [(label, chapter, name, steps) for (chapter, name), (label, steps) in RUNS.items()]
    runs += [(label, *run) for label, run in STORED.items()]  # from a stored run's trained weights
    for label, chapter, name, steps in runs:
        if args.only and label not in args.only:
            continue
        planned = next(p for p in CHAPTERS[chapter].plan("full") if p.name == name)
        exp, cfg = planned.experiment, planned.config
        modes = {"eager": None}
        if not args.no_compile and hasattr(exp, "compile_model"):
            modes["compiled"] = exp.compile_model
        weights = Path(HERE, "data", "results", chapter, name, "model.pt") if label in STORED else None
        for mode, compile_ in modes.items():
            rates = []
            for _ in range(args.rounds):
                model = fresh_model(exp, cfg, device, compile_, weights)
                rates.append(steps_per_second(exp, cfg, model, device, steps, args.first_step))
            step = 1 / statistics.median(rates)
            products, calls = profiled(exp, cfg, device, steps, args.first_step, compile_, weights)
            row = {
                "experiment": label,
                "mode": mode,
                "batch": cfg.batch_size,
                "ms per step": round(step * 1e3, 2),
                "products ms per step": round(products * 1e3, 2),
                "products share": round(products / step, 3),
                "aten calls per step": round(calls),
                "bound": round(step / products, 2),
            }
            rows.append(row)
            print(
                f"{label:24s} {mode:9s} {row['ms per step']:8.2f} {row['products ms per step']:9.2f} "
                f"{row['products share']:6.0%} {row['aten calls per step']:9d} {row['bound']:5.1f}x",
                flush=True,
            )
    if args.record:
        name = "distance to the floor: matrix products per step" + (f", {args.label}" if args.label else "")
        record(name, "python " + shlex.join(sys.argv), rows, device)


if __name__ == "__main__":
    main()
