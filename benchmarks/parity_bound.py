"""How much fusing ACT parity's model could gain: fit's training step for the parity run tau0.001-seed0
against the same model's arithmetic for a fixed number K of inner steps, every sample running every
step (no host check, no subsets of samples), eager and compiled by torch.compile as one graph, forward
and backward. K is the number of inner steps the model takes on the first timed batch (about 2 for a
fresh network, 6 from the run's stored weights). Each mode runs the whole step as fit does: batch,
loss, backward pass and update; rounds alternate between the modes, and medians are printed, with the
step split into its four parts.

    .venv/bin/python benchmarks/parity_bound.py [--weights] [--rounds 9] [--record] [--device cuda]
"""

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

from augrnn.act.mechanism import _inner_steps, halting_weights
from augrnn.book.chapters import CHAPTERS
from augrnn.core.devices import pick_device, step_generator
from augrnn.core.update import Update
from timing import record
from train_step import fresh_model

RUN = "tau0.001-seed0"
PARTS = ("batch", "forward", "backward", "update")


def fixed_loss(model, x, y, k: int, tau: float):
    """Parity's loss (eq. 12) for exactly k inner steps of every sample: the arithmetic of ACTCell's
    inner steps and halting weights, without the host check after each step."""
    first, later, step = _inner_steps(model.cell, x)  # the inputs' share, once; step: the tanh RNN's update
    h = x.new_zeros(x.shape[0], model.hidden)
    states, halts = [], []
    for n in range(k):
        h = step(first if n == 0 else later, h)
        states.append(h)
        halts.append(torch.sigmoid(model.act.halt(h)).squeeze(-1))
    p, steps, remainder = halting_weights(torch.stack(halts, -1), model.act.eps)
    logits = model.out((p.unsqueeze(-1) * torch.stack(states, 1)).sum(1)).squeeze(-1)
    return F.binary_cross_entropy_with_logits(logits, y) + tau * (steps + remainder).mean()


def time_mode(exp, cfg, weights, loss_fn, steps: int, device) -> list[float]:
    """Milliseconds per step in each of PARTS, over `steps` steps after ten untimed ones (on a GPU the
    queue is drained at each part's end, so each part's time is the GPU's)."""
    model = fresh_model(exp, cfg, device, weights=weights)
    update = Update(cfg, model.parameters())
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    total = [0.0] * len(PARTS)
    for s in range(2000, 2010 + steps):
        t0 = time.perf_counter()
        b = exp.batch(cfg, s, step_generator(cfg.seed, s, device), device)
        sync()
        t1 = time.perf_counter()
        loss = loss_fn(model, b)
        sync()
        t2 = time.perf_counter()
        update.zero_grad()
        loss.backward()
        sync()
        t3 = time.perf_counter()
        update.step(s)
        sync()
        t4 = time.perf_counter()
        if s >= 2010:
            for i, d in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                total[i] += d
    return [1e3 * t / steps for t in total]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto", help="auto (a CUDA GPU, else the CPU), cpu or cuda")
    ap.add_argument("--weights", action="store_true", help=f"start from the stored weights of {RUN}")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--record", action="store_true", help="keep the table in data/results/benchmarks.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    device = pick_device(args.device)
    planned = next(p for p in CHAPTERS["act"].plan("full") if p.name == RUN)
    exp, cfg = planned.experiment, planned.config
    here = Path(__file__).resolve().parents[1]
    weights = here / "data" / "results" / "act" / RUN / "model.pt" if args.weights else None
    probe = fresh_model(exp, cfg, device, weights=weights)
    with torch.no_grad():
        k = probe(exp.batch(cfg, 2010, step_generator(cfg.seed, 2010, device), device)["x"])[2]["h"].shape[-1]
    fixed = torch.compile(fixed_loss, dynamic=False)
    modes = {
        "fit's step": lambda m, b: exp.loss(m, b, cfg)[0],
        f"fixed {k} inner steps, eager": lambda m, b: fixed_loss(m, b["x"], b["y"], k, cfg.tau),
        f"fixed {k} inner steps, compiled": lambda m, b: fixed(m, b["x"], b["y"], k, cfg.tau),
    }
    t0 = time.perf_counter()
    time_mode(exp, cfg, weights, modes[f"fixed {k} inner steps, compiled"], 1, device)  # compiles
    print(f"device={device} torch={torch.__version__} threads=1 weights={'stored' if weights else 'fresh'} K={k}")
    print(f"compiling took {time.perf_counter() - t0:.1f} s")
    times = {mode: [] for mode in modes}
    for _ in range(args.rounds):
        for mode, loss_fn in modes.items():
            times[mode].append(time_mode(exp, cfg, weights, loss_fn, args.steps, device))
    base = statistics.median(sum(t) for t in times["fit's step"])
    print(f"{'mode':34s} {'ms/step':>8s} {'speed-up':>8s}  " + " ".join(f"{p:>8s}" for p in PARTS))
    rows = []
    for mode, ts in times.items():
        step = statistics.median(sum(t) for t in ts)
        parts = [statistics.median(t[i] for t in ts) for i in range(len(PARTS))]
        print(f"{mode:34s} {step:8.3f} {base / step:7.2f}x  " + " ".join(f"{p:8.3f}" for p in parts))
        row = {"experiment": f"act/parity, {mode}", "ms per step": round(step, 3), "speed-up": round(base / step, 2)}
        rows.append(row | {f"{p} ms": round(v, 3) for p, v in zip(PARTS, parts)})
    if args.record:
        label = "ACT parity fused: the step against its fixed-step arithmetic compiled"
        record(label + (", trained weights" if weights else ""), "python " + shlex.join(sys.argv), rows, device)


if __name__ == "__main__":
    main()
