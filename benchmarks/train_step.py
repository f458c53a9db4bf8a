"""The training step of each chapter's main experiments, as `fit` runs it (batch, loss, backward,
clipping, optimiser), eager and with the experiment's torch.compile (where it has one). Configs are
the full-scale plans' own. Every round trains a fresh model from the same initialisation for the same
number of steps on the same batches, so each round (and each checkout) does the same work: a model
whose cost depends on what it has learnt (ACT's ponder steps) is timed on the same trajectory.
Rounds alternate between the modes; medians are printed.

    .venv/bin/python benchmarks/train_step.py [--only ntm/copy ...] [--threads 1] [--rounds 3] [--record]

Run it on another checkout's code (PYTHONPATH=OTHER/src) to time that code on the same configs, e.g.
the code before the speed work, recorded beside today's with --label (the appendix shows the ratio):

    git worktree add /tmp/before 9ef4bc2
    PYTHONPATH=/tmp/before/src .venv/bin/python benchmarks/train_step.py --no-compile --record --label before

"""

import argparse
import statistics
import sys
import time

import torch

from augrnn.book.chapters import CHAPTERS
from augrnn.core.devices import pick_device, step_generator
from augrnn.core.train import make_optimizer
from timing import record

# (chapter, planned run) -> (label, timed steps): one representative run per experiment
RUNS = {
    ("ntm", "copy-ntm-seed0"): ("ntm/copy", 40),
    ("act", "tau0.001-seed0"): ("act/parity", 400),
    ("act", "logic-tau0.01-seed0"): ("act/logic", 40),
    ("neural_programmer", "tables-c3-t4-seed0"): ("programmer/tables", 100),
    ("neural_programmer", "arithmetic-seed0"): ("programmer/arithmetic", 300),
    ("neural_programmer", "paper-st-interacting-c3-seed0"): ("programmer/paper", 200),
    ("attention", "translation-attention-seed0"): ("attention/translation", 10),
    ("attention", "strips-attention-seed0"): ("attention/strips", 100),
    ("attention", "speech-attention-seed0"): ("attention/speech", 10),
}


def steps_per_second(experiment, cfg, model, device, steps, first_step):
    """Steps per second over `steps` steps from `first_step`, after one untimed warm-up step."""
    opt = make_optimizer(cfg, model.parameters())
    step = first_step

    def one():
        nonlocal step
        b = experiment.batch(cfg, step, step_generator(cfg.seed, step, device), device)
        loss, _ = experiment.loss(model, b, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        step += 1

    one()  # warm-up (compiles where compiled)
    t0 = time.perf_counter()
    for _ in range(steps):
        one()
    return steps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None, help="labels, e.g. ntm/copy act/parity")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale-steps", type=float, default=1.0, help="multiply every experiment's timed steps")
    ap.add_argument("--first-step", type=int, default=2000, help="the step whose batches are timed (curricula)")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--record", action="store_true", help="keep the results in data/results/benchmarks.json")
    ap.add_argument("--label", default="", help="recorded under 'training step per experiment, LABEL'")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device("auto")
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__}")
    print(f"{'experiment':24s} {'batch':>5s} {'eager steps/s':>14s} {'compiled':>10s} {'ratio':>6s}")
    rows = []
    for (chapter, name), (label, steps) in RUNS.items():
        if args.only and label not in args.only:
            continue
        planned = next((p for p in CHAPTERS[chapter].plan("full") if p.name == name), None)
        if planned is None:  # an older checkout's plan may lack it
            print(f"{label:24s} (no run {name} in this checkout's plan)", flush=True)
            continue
        exp, cfg = planned.experiment, planned.config
        modes = {"eager": None}
        if not args.no_compile and hasattr(exp, "compile_model"):
            modes["compiled"] = exp.compile_model
        steps = max(1, round(steps * args.scale_steps))
        rates = {m: [] for m in modes}
        for _ in range(args.rounds):
            for mode, compile_ in modes.items():
                torch.manual_seed(0)
                model = exp.build_model(cfg).to(device).train()
                if compile_:
                    compile_(model)
                rates[mode].append(steps_per_second(exp, cfg, model, device, steps, args.first_step))
        med = {m: statistics.median(v) for m, v in rates.items()}
        comp = med.get("compiled")
        ratio = f"{comp / med['eager']:5.2f}x" if comp else "   -"
        print(f"{label:24s} {cfg.batch_size:5d} {med['eager']:14.2f} {comp or float('nan'):10.2f} {ratio}", flush=True)
        rows.append(
            {
                "experiment": label,
                "batch": cfg.batch_size,
                "eager steps/s": round(med["eager"], 2),
                "compiled steps/s": round(comp, 2) if comp else None,
            }
        )
    if args.record:
        name = "training step per experiment" + (f", {args.label}" if args.label else "")
        record(name, "python " + " ".join(sys.argv), rows, device)


if __name__ == "__main__":
    main()
