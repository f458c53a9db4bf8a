"""The training step of each chapter's main experiments, as `fit` runs it (batch, loss, backward,
clipping, optimiser), eager and with the experiment's torch.compile (where it has one; COMPILE_ALSO:
where its runs do not compile, what the compiler would give it). Configs are the full-scale plans'
own. Every round trains a fresh model from the same initialisation for the same number of steps on
the same batches, so each round (and each checkout) does the same work: a model whose cost depends
on what it has learnt (ACT's ponder steps) is timed on the same trajectory. The labels of STORED
start from a stored run's trained weights instead (ACT's trained networks ponder about five times
longer than a fresh one, which is where the logic runs spend their time). Rounds alternate between
the modes; medians are printed (with --against, also the median of each round's ratio to the other
checkout's round: "paired").

    .venv/bin/python benchmarks/train_step.py [--only ntm/copy ...] [--threads 1] [--rounds 3] [--record]

To compare with another checkout's code, e.g. the code before the speed work, give its path with
--against (each checkout times the configs its own plan has for a label, the same where the plan has
not changed since): every round then times that code first (eagerly), then ours, each in a fresh
process running this script with that checkout's src/ on PYTHONPATH, so a machine that speeds up or
slows down during the run moves both alike and neither inherits a process's state (on this project's
shared machine the same code timed in two runs of the script a day apart differed by up to 1.7x).
--record keeps both tables; the appendix shows the ratio:

    git worktree add /tmp/before 9ef4bc2
    .venv/bin/python benchmarks/train_step.py --rounds 5 --record --against /tmp/before

"""

import argparse
import contextlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from augrnn.book.chapters import CHAPTERS
from augrnn.core import io
from augrnn.core.devices import pick_device, step_generator

try:  # the update fit runs (core/update.py); a checkout from before it (--against) has make_optimizer
    from augrnn.core.update import Update
except ImportError:
    Update = None
    from augrnn.core.train import make_optimizer
try:  # the compiled training forward (core/compiled.py); a checkout from before it lacks it
    from augrnn.core.compiled import compile_training_forward
except ImportError:
    compile_training_forward = None
from timing import record

HERE = str(Path(__file__).resolve().parents[1])  # this checkout

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
# label -> (chapter, planned run, config changes, timed steps): a planned run with a setting changed, to
# time a choice the chapter's runs no longer use beside the one they do, on the same code
CHANGED = {
    "attention/speech, GRU listener": ("attention", "speech-attention-seed0", {"model": {"cell": "gru"}}, 10),
}
# label -> how to compile an experiment whose runs are not compiled (it has no compile_model): what the
# compiler would give it, timed as "compiled" beside its eager step (on a CPU)
COMPILE_ALSO = {"programmer/tables": compile_training_forward, "programmer/arithmetic": compile_training_forward}
# label -> (chapter, planned run, timed steps): the run's own trained weights (data/results), not a fresh
# initialisation: a trained ACT network ponders about 10 inner steps per input where a fresh one ponders 2
STORED = {
    "act/logic, trained weights": ("act", "logic-tau0.01-seed0", 12),
    "act/parity, trained weights": ("act", "tau0.001-seed0", 400),
}


def fresh_model(experiment, cfg, device, compile_=None, weights=None):
    """The experiment's model from the same initialisation in every round (or the stored weights at
    the path `weights`), compiled by `compile_`."""
    torch.manual_seed(0)
    model = experiment.build_model(cfg).to(device).train()
    if weights:
        model.load_state_dict(io.load_torch(weights, map_location=device, weights_only=True))
    if compile_:
        compile_(model)
    return model


def steps_per_second(experiment, cfg, model, device, steps, first_step, around=contextlib.nullcontext):
    """Steps per second over `steps` steps from `first_step`, after one untimed warm-up step; the timed
    steps run inside the context `around()` (floor.py's profiler)."""
    update = Update(cfg, model.parameters()) if Update else None
    opt = None if update else make_optimizer(cfg, model.parameters())
    step = first_step

    def one():
        nonlocal step
        b = experiment.batch(cfg, step, step_generator(cfg.seed, step, device), device)
        loss, _ = experiment.loss(model, b, cfg)
        if update:  # as fit runs it: clipping, gradient noise, the optimiser
            update.zero_grad()
            loss.backward()
            update.step(step)
        else:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
        step += 1

    # On a GPU the queue is drained before and after, so the time is the GPU's, not the launches'.
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    one()  # warm-up (compiles where compiled)
    sync()
    with around():
        t0 = time.perf_counter()
        for _ in range(steps):
            one()
        sync()
        return steps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None, help="labels, e.g. ntm/copy act/parity")
    ap.add_argument("--device", default="auto", help="auto (a CUDA GPU, else the CPU), cpu or cuda")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale-steps", type=float, default=1.0, help="multiply every experiment's timed steps")
    ap.add_argument("--first-step", type=int, default=2000, help="the step whose batches are timed (curricula)")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--record", action="store_true", help="keep the results in data/results/benchmarks.json")
    ap.add_argument("--label", default="", help="recorded under 'training step per experiment, LABEL'")
    ap.add_argument(
        "--against",
        default="",
        help="a checkout of another commit (e.g. a worktree of 9ef4bc2): each round also times its code, "
        "eagerly, in a fresh process, just before ours",
    )
    ap.add_argument("--against-label", default="before", help="the other checkout's table: '..., LABEL'")
    ap.add_argument("--json", action="store_true", help="end with one JSON line {label: eager steps/s}")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__}")
    print(f"{'experiment':24s} {'batch':>5s} {'eager steps/s':>14s} {'compiled':>10s} {'ratio':>6s}")
    rows, against = [], {}
    runs = [(label, chapter, name, {}, steps) for (chapter, name), (label, steps) in RUNS.items()]
    runs += [(label, *run) for label, run in CHANGED.items()]
    runs += [(label, chapter, name, {}, steps) for label, (chapter, name, steps) in STORED.items()]
    for label, chapter, name, changes, steps in runs:
        if args.only and label not in args.only:
            continue
        planned = next((p for p in CHAPTERS[chapter].plan("full") if p.name == name), None)
        if planned is None:  # an older checkout's plan may lack it
            print(f"{label:24s} (no run {name} in this checkout's plan)", flush=True)
            continue
        exp, cfg = planned.experiment, planned.config
        try:
            cfg = cfg.replace(**changes)
        except (TypeError, ValueError) as e:  # a setting an older checkout's config lacks
            print(f"{label:24s} (not in this checkout: {e})", flush=True)
            continue
        modes = {"eager": None}
        # (COMPILE_ALSO on a CPU only: gpu_check.sh's time on a lent GPU has no room for two more compilations)
        compile_ = getattr(exp, "compile_model", None) or (COMPILE_ALSO.get(label) if device.type == "cpu" else None)
        if not args.no_compile and compile_:
            modes["compiled"] = compile_
        steps = max(1, round(steps * args.scale_steps))
        rates = {m: [] for m in modes}
        for _ in range(args.rounds):
            if args.against:
                # The other checkout's round, then ours, each in a fresh process: the machine's drift
                # hits both alike, and neither inherits the state of the rounds before it.
                other = round_in_fresh_process(args, label, args.against, compiled=False).get("eager")
                if other is not None:
                    against.setdefault(label, (cfg.batch_size, []))[1].append(other)
                for mode, rate in round_in_fresh_process(args, label, HERE, compiled="compiled" in modes).items():
                    rates[mode].append(rate)
                continue
            for mode, compile_ in modes.items():
                weights = Path(HERE, "data", "results", chapter, name, "model.pt") if label in STORED else None
                model = fresh_model(exp, cfg, device, compile_, weights)
                t0 = time.perf_counter()
                rates[mode].append(steps_per_second(exp, cfg, model, device, steps, args.first_step))
                if compile_:  # the untimed first step, which compiles (seconds with a warm inductor cache)
                    first = time.perf_counter() - t0 - steps / rates[mode][-1]
                    print(f"{label:24s} first {mode} step: {first:.1f} s", flush=True)
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
                **spread(rates),
                **paired(rates, against.get(label, (None, []))[1], args.against_label),
            }
        )
    if args.json:  # what round_in_fresh_process reads: each mode's rate of the one label timed
        print(json.dumps({m: r[f"{m} steps/s"] for r in rows for m in ("eager", "compiled") if r[f"{m} steps/s"]}))
    other_rows = []
    for label, (batch, v) in against.items():
        median = round(statistics.median(v), 2)
        other_rows.append({"experiment": label, "batch": batch, "eager steps/s": median, **spread({"eager": v})})
        print(f"{label:24s} {batch:5d} {statistics.median(v):14.2f}   (--against {args.against}, eager)")
    for r in rows:  # each round's ratio, ours over the other checkout's eager step: the median and range
        pairs = {k: v for k, v in r.items() if "paired" in k}
        if pairs:
            print(f"{r['experiment']:24s} " + ", ".join(f"{k} {v}" for k, v in pairs.items()))
    if args.record:
        command = "python " + shlex.join(sys.argv)
        name = "training step per experiment" + (f", {args.label}" if args.label else "")
        record(name, command, rows, device)
        if args.against:
            record(f"training step per experiment, {args.against_label}", command, other_rows, device)


def paired(rates: dict, other: list, other_label: str) -> dict:
    """Each mode's median over the rounds of its rate over the other checkout's in the same round
    ("eager / before, paired"): a round's two runs follow each other, so the machine's drift, which
    moves the two medians apart from round to round, mostly cancels in their ratio."""
    out = {}
    for m, v in rates.items():
        if other and len(v) == len(other):
            ratios = [a / b for a, b in zip(v, other)]
            out[f"{m} / {other_label}, paired"] = round(statistics.median(ratios), 2)
            out[f"{m} / {other_label}, paired range"] = f"{min(ratios):.2f}-{max(ratios):.2f}"
    return out


def spread(rates: dict) -> dict:
    """The slowest and fastest round of each mode ("eager range": "min-max"): the medians' noise."""
    return {f"{m} range": f"{min(v):.2f}-{max(v):.2f}" for m, v in rates.items() if len(v) > 1}


def round_in_fresh_process(args, label: str, checkout: str, compiled: bool) -> dict:
    """One round of `label` on the code of `checkout` (its src/ first on the path), in a fresh process
    running this script (so the same timing): {mode: steps/s}, empty where that checkout lacks the run."""
    command = [sys.executable, __file__, "--only", label, "--rounds", "1", "--json"]
    command += ["--device", args.device, "--threads", str(args.threads), "--scale-steps", str(args.scale_steps)]
    command += ["--first-step", str(args.first_step)] + ([] if compiled else ["--no-compile"])
    env = {**os.environ, "PYTHONPATH": os.path.join(checkout, "src")}
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
