"""Cost of an ACT step against the same cell run for a fixed number of inner steps, per sample.

    .venv/bin/python benchmarks/act_step.py [--device auto|cpu|cuda] [--batch 128] [--bits 64]

Times forward + backward on a parity batch. ACT pays for the steps its slowest sample ponders
(the whole batch runs until every sample has halted) plus one host check per inner step.
"""

import argparse

import torch
from torch.nn import functional as F

from augrnn.act.parity import ParityConfig, ParityNet, parity_batch
from augrnn.core.devices import pick_device
from timing import timeit


def fixed_steps(model, x, k):
    s = torch.zeros(x.shape[0], model.hidden, device=x.device)
    flag = torch.zeros(x.shape[0], 1, device=x.device)
    for n in range(k):
        s = model.cell(torch.cat([x, flag + (n == 0)], -1), s)
    return model.out(s).squeeze(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument(
        "--halt-bias",
        type=float,
        default=-2.0,
        help="initial halting bias; lower values ponder longer (sets the step count)",
    )
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    device = pick_device(args.device)
    cfg = ParityConfig(bits=args.bits)
    torch.manual_seed(0)
    model = ParityNet(cfg.model, cfg.bits).to(device)
    torch.nn.init.constant_(model.act.halt.bias, args.halt_bias)
    b = parity_batch(cfg, args.batch, torch.Generator(device=device).manual_seed(0), device)

    def act_step():
        logits, ponder, _ = model(b["x"])
        (F.binary_cross_entropy_with_logits(logits, b["y"]) + 1e-3 * ponder.mean()).backward()

    with torch.no_grad():
        _, ponder, info = model(b["x"])
    k_run = info["h"].shape[-1]
    print(f"device={device} batch={args.batch} bits={args.bits} torch={torch.__version__}")
    cap = cfg.model.max_steps
    print(f"ACT: mean ponder {float(ponder.mean()):.2f}, inner steps run for the batch: {k_run} (cap {cap})")
    t_act = timeit(act_step, device, args.seconds)
    print(f"{'mode':26s} {'us/sample':>10s} {'vs ACT':>8s}")
    print(f"{'ACT (until all halt)':26s} {1e6 * t_act / args.batch:10.1f} {1.0:7.2f}x")
    for k in sorted({1, k_run, cfg.model.max_steps}):
        t = timeit(
            lambda: F.binary_cross_entropy_with_logits(fixed_steps(model, b["x"], k), b["y"]).backward(),
            device,
            args.seconds,
        )
        print(f"{f'fixed {k} steps':26s} {1e6 * t / args.batch:10.1f} {t / t_act:7.2f}x")


if __name__ == "__main__":
    main()
