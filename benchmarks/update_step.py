"""The update after the backward pass alone (gradient clipping, gradient noise, the optimiser's step),
as fit runs it (core/update.py: on a CPU one call per operation over one flat buffer of all
parameters) against torch's own calls on the parameters one by one (clip_grad_norm_ or
clip_grad_value_, the noise per parameter, the foreach optimiser), on each chapter's full-scale config.
The whole step's time varies by more than this part of it, so it is timed by itself: every round
trains a fresh model from the same initialisation both ways, in turn, and times only the update.

    .venv/bin/python benchmarks/update_step.py [--only act/parity ...] [--threads 1] [--rounds 5] [--record]
"""

import argparse
import shlex
import statistics
import sys
import time

import torch

from augrnn.book.chapters import CHAPTERS
from augrnn.core.devices import pick_device, step_generator
from augrnn.core.update import Update
from timing import record
from train_step import RUNS, fresh_model

# the two forms, as Update's `flat`: False, torch's calls over the parameters one by one (fit's update
# before core/update.py, and its form on a GPU); None, one flat buffer where the parameters allow it
FORMS = {"per parameter": False, "flat": None}


def update_ms(exp, cfg, device, flat, steps, first_step) -> float:
    """Milliseconds per update over `steps` training steps (after one untimed step) of a fresh model."""
    model = fresh_model(exp, cfg, device)
    update = Update(cfg, model.parameters(), flat=flat)
    total = 0.0
    for k in range(steps + 1):
        t = first_step + k
        b = exp.batch(cfg, t, step_generator(cfg.seed, t, device), device)
        loss, _ = exp.loss(model, b, cfg)
        update.zero_grad()
        loss.backward()
        t0 = time.perf_counter()
        update.step(t)
        if k:
            total += time.perf_counter() - t0
    return total / steps * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None, help="labels, e.g. act/parity programmer/tables")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--first-step", type=int, default=2000)
    ap.add_argument("--record", action="store_true", help="keep the results in data/results/benchmarks.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device("cpu")  # the flat buffer is the CPU's form
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__}")
    print(f"{'experiment':24s} {'tensors':>7s} {'per parameter ms':>17s} {'flat ms':>8s} {'ratio':>6s}")
    rows = []
    for (chapter, name), (label, steps) in RUNS.items():
        if args.only and label not in args.only:
            continue
        planned = next(p for p in CHAPTERS[chapter].plan("full") if p.name == name)
        exp, cfg = planned.experiment, planned.config
        times = {form: [] for form in FORMS}
        for _ in range(args.rounds):
            for form, flat in FORMS.items():
                times[form].append(update_ms(exp, cfg, device, flat, steps, args.first_step))
        med = {k: statistics.median(v) for k, v in times.items()}
        tensors = sum(1 for p in exp.build_model(cfg).parameters() if p.requires_grad)
        ratio = med["per parameter"] / med["flat"]
        print(f"{label:24s} {tensors:7d} {med['per parameter']:17.3f} {med['flat']:8.3f} {ratio:5.2f}x", flush=True)
        rows.append(
            {
                "experiment": label,
                "parameter tensors": tensors,
                "per parameter ms": round(med["per parameter"], 3),
                "flat ms": round(med["flat"], 3),
                "per parameter over flat": round(ratio, 2),
                "rounds": args.rounds,
            }
        )
    if args.record:
        record("update after the backward pass", "python " + shlex.join(sys.argv), rows, device)


if __name__ == "__main__":
    main()
