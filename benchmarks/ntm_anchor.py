"""Our NTM's training step beside loudinthecloud/pytorch-ntm (the anchor), on the same model: LSTM
controller of 100 units, memory 128 x 20, one read and one write head, copy sequences of 8 bits.

    .venv/bin/python benchmarks/ntm_anchor.py --anchor PATH [--batches 1 32] [--threads 1] [--rounds 5]

PATH is a checkout of https://github.com/loudinthecloud/pytorch-ntm (not on the package index; clone
it anywhere outside this repository). Without it the script says so and exits. Both sides run the
anchor's training step: BCE on the output sequence, gradients clipped element-wise to [-10, 10],
RMSProp (lr 1e-4, momentum 0.9, alpha 0.95). The anchor's step is its own `train_batch` logic
(its train.py needs an attrs older than ours, so the few lines are repeated here). Runs alternate,
anchor and ours, for --rounds rounds on the same sequence lengths; the medians are printed. Prints
sequences per second and the ratios; asserts nothing.

With --converge SEED ... it instead trains the anchor's own model with its own recipe until its
held-out cost first falls below 0.1 bit per sequence, and prints the sequences and training seconds
it took; with --ours-converge SEED ... it trains our chapter's copy recipe afresh and prints the same.
"""

import argparse
import math
import random
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

from augrnn.ntm.model import NTMModelConfig, build
from augrnn.ntm.tasks import NTMTask
from timing import record

WIDTH = 8


def copy_batch(batch, length, g):
    """Inputs T x B x (W+1) with the delimiter, targets L x B x W, sequence-first as the anchor's."""
    seq = torch.randint(0, 2, (length, batch, WIDTH), generator=g).float()
    inp = torch.zeros(length + 1, batch, WIDTH + 1)
    inp[:length, :, :WIDTH] = seq
    inp[length, :, WIDTH] = 1.0
    return inp, seq


def clip_(net):
    for p in net.parameters():
        if p.grad is not None:
            p.grad.data.clamp_(-10, 10)


def anchor_step(net, opt, criterion, x, y):
    """pytorch-ntm's train.py `train_batch`, as written there."""
    opt.zero_grad()
    net.init_sequence(y.shape[1])
    for i in range(x.shape[0]):
        net(x[i])
    y_out = torch.zeros(y.size())
    for i in range(y.shape[0]):
        y_out[i], _ = net()
    loss = criterion(y_out, y)
    loss.backward()
    clip_(net)
    opt.step()


def our_step(model, opt, criterion, x, y):
    """The same step on our model: the input sequence, then zeros while the copy is read out."""
    opt.zero_grad()
    length = y.shape[0]
    inputs = torch.cat([x, torch.zeros(length, x.shape[1], x.shape[2])]).transpose(0, 1)  # B x T x (W+1)
    logits = model(inputs)[:, -length:]
    loss = nn.functional.binary_cross_entropy_with_logits(logits, y.transpose(0, 1))
    loss.backward()
    clip_(model)
    opt.step()


def rmsprop(params):
    return torch.optim.RMSprop(params, lr=1e-4, momentum=0.9, alpha=0.95)


def rate(step, net, batches, seconds):
    """Sequences per second of `step` over the given batches (cycled) for about `seconds`."""
    opt, crit = rmsprop(net.parameters()), nn.BCELoss()
    step(net, opt, crit, *batches[0])  # warm-up (and compilation)
    t0, n, seqs = time.perf_counter(), 0, 0
    while time.perf_counter() - t0 < seconds:
        x, y = batches[n % len(batches)]
        step(net, opt, crit, x, y)
        n, seqs = n + 1, seqs + y.shape[1]
    return seqs / (time.perf_counter() - t0)


@torch.no_grad()
def anchor_cost(net, tests) -> float:
    """Held-out cost of the anchor's model as our chapter measures it: binary cross-entropy in bits,
    summed over the output sequence, per sequence, averaged over the test lengths."""
    costs = []
    for x, y in tests:
        net.init_sequence(y.shape[1])
        for i in range(x.shape[0]):
            net(x[i])
        out = torch.stack([net()[0] for _ in range(y.shape[0])])
        bce = nn.functional.binary_cross_entropy(out, y, reduction="sum") / y.shape[1]
        costs.append(float(bce) / math.log(2))
    return sum(costs) / len(costs)


def converge(anchor_cls, seed: int, max_sequences: int, every: int, threshold: float = 0.1) -> dict:
    """Train the anchor's own copy model with its own recipe (batch 1, lengths 1-20, RMSProp 1e-4,
    element-wise clipping, mean BCE) until its held-out cost first falls below `threshold` bits per
    sequence, evaluated every `every` sequences on a fixed set (64 sequences of lengths 1, 10 and 20,
    as our chapter's held-out set). The seconds count training only, not the evaluations."""
    g = torch.Generator().manual_seed(10_000)
    tests = [copy_batch(64, length, g) for length in (1, 10, 20)]
    random.seed(seed)
    torch.manual_seed(seed)
    net = anchor_cls(WIDTH + 1, WIDTH, 100, 1, 1, 128, 20)
    opt, crit, rng = rmsprop(net.parameters()), nn.BCELoss(), torch.Generator().manual_seed(seed)
    seconds, row = 0.0, {"seed": seed, "sequences to 1 bit": None, "seconds to 1 bit": None}
    worst = None  # the highest held-out cost after it first fell below 1 bit (a collapse shows here)
    for n in range(1, max_sequences + 1):
        x, y = copy_batch(1, random.randint(1, 20), rng)
        t0 = time.perf_counter()
        anchor_step(net, opt, crit, x, y)
        seconds += time.perf_counter() - t0
        if n % every == 0:
            cost = anchor_cost(net, tests)
            if worst is not None:
                worst = max(worst, cost)
            elif cost < 1.0:
                worst = cost
                row |= {"sequences to 1 bit": n, "seconds to 1 bit": round(seconds, 1)}
            if cost < threshold:
                return row | {
                    "sequences to 0.1 bit": n,
                    "seconds to 0.1 bit": round(seconds, 1),
                    "worst after 1 bit": round(worst, 3),
                }
    return row | {
        "sequences to 0.1 bit": None,
        "seconds to 0.1 bit": None,
        "trained sequences": n,
        "worst after 1 bit": worst and round(worst, 3),
    }


def ours_converge(seed: int) -> dict:
    """Our chapter's copy recipe (`augrnn.ntm.experiments.config` at full scale: batch 32, Adam, the
    compiled step) trained afresh in a temporary folder, with the same thresholds. Its seconds are
    the metrics' own: training wall time including the compilation and the held-out evaluations."""
    import tempfile

    from augrnn.core.train import fit
    from augrnn.ntm import experiments
    from augrnn.ntm.tasks import sequences_to_converge, worst_after

    cfg = experiments.config("full", "copy", "NTM", seed, **experiments.task_fields("full", "copy"))
    with tempfile.TemporaryDirectory() as tmp:
        m = fit(NTMTask(), cfg, Path(tmp), progress=False).metrics
    row = {"seed": seed}
    for t in (1.0, 0.1):
        row |= {
            f"{what} to {t:g} bit": sequences_to_converge(m, t, at=at)
            for what, at in (("sequences", "examples"), ("seconds", "seconds"))
        }
    return row | {"worst after 1 bit": round(worst_after(m), 3), "final cost": round(float(m["test_cost"].iloc[-1]), 4)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anchor", type=Path, help="a checkout of loudinthecloud/pytorch-ntm")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--compile", action="store_true", help="also time our step with torch.compile")
    ap.add_argument("--record", action="store_true", help="keep the results in data/results/benchmarks.json")
    ap.add_argument("--label", default="", help="recorded under 'NAME, LABEL' (e.g. the runs of one session)")
    ap.add_argument(
        "--converge",
        type=int,
        nargs="+",
        metavar="SEED",
        help="instead: train the anchor's copy model with its recipe until 0.1 bit, for these seeds",
    )
    ap.add_argument("--max-sequences", type=int, default=40_000)
    ap.add_argument("--every", type=int, default=500, help="sequences between held-out evaluations")
    ap.add_argument(
        "--ours-converge",
        type=int,
        nargs="+",
        metavar="SEED",
        help="instead: train our chapter's copy recipe afresh until 0.1 bit, for these seeds",
    )
    args = ap.parse_args()

    command = "python " + shlex.join(sys.argv)  # as recorded: the line that printed the results

    def titled(what: str) -> str:
        return what + (f", {args.label}" if args.label else "")

    if args.ours_converge:
        torch.set_num_threads(args.threads)
        rows = []
        for seed in args.ours_converge:
            rows.append(ours_converge(seed))
            print(rows[-1], flush=True)
            if args.record:
                record(titled("our copy recipe: time to 0.1 bit"), command, rows, torch.device("cpu"))
        return
    if args.anchor is None or not (args.anchor / "ntm" / "aio.py").exists():
        print(
            "skipped: pass --anchor PATH, a checkout of https://github.com/loudinthecloud/pytorch-ntm "
            "(git clone it outside this repository)"
        )
        return
    sys.path.insert(0, str(args.anchor))
    from ntm.aio import EncapsulatedNTM  # the anchor's package, from its checkout

    torch.set_num_threads(args.threads)
    print(f"threads={torch.get_num_threads()} torch={torch.__version__} anchor={args.anchor}")
    if args.converge:
        rows = []
        for seed in args.converge:
            rows.append(converge(EncapsulatedNTM, seed, args.max_sequences, args.every))
            print(rows[-1], flush=True)
            if args.record:  # after every seed: a long run interrupted keeps what it measured
                record(titled("pytorch-ntm time to 0.1 bit"), command, rows, torch.device("cpu"))
        return
    print(f"{'batch':>5s} {'anchor seq/s':>13s} {'ours seq/s':>11s} {'ours / anchor':>14s}")
    rows = []
    for batch in args.batches:
        rng, g = random.Random(0), torch.Generator().manual_seed(0)
        batches = [copy_batch(batch, rng.randint(1, 20), g) for _ in range(16)]
        torch.manual_seed(0)
        anchor = EncapsulatedNTM(WIDTH + 1, WIDTH, 100, 1, 1, 128, 20)
        ours = build(NTMModelConfig(), WIDTH + 1, WIDTH)
        variants = {"ours": ours}
        if args.compile:
            compiled = build(NTMModelConfig(), WIDTH + 1, WIDTH)
            NTMTask().compile_model(compiled)  # as `fit` does with compile=True
            variants["ours + compile"] = compiled
        runs = {"anchor": [], **{k: [] for k in variants}}
        for _ in range(args.rounds):  # interleaved, so drifting machine load hits both sides alike
            runs["anchor"].append(rate(anchor_step, anchor, batches, args.seconds))
            for name, model in variants.items():
                runs[name].append(rate(our_step, model, batches, args.seconds))
        med = {k: statistics.median(v) for k, v in runs.items()}
        rows.append({"batch": batch, **{f"{k} (seq/s)": round(v, 1) for k, v in med.items()}})
        print(f"{batch:5d} {med['anchor']:13.1f} {med['ours']:11.1f} {med['ours'] / med['anchor']:13.1f}x")
        if args.compile:
            print(
                f"{'':5s} {'':13s} {med['ours + compile']:11.1f} {med['ours + compile'] / med['anchor']:13.1f}x"
                "  (with torch.compile)"
            )
    if args.record:
        record(titled("NTM copy step beside pytorch-ntm"), command, rows, torch.device("cpu"))


if __name__ == "__main__":
    main()
