"""Training throughput of the NTM on the copy task: batched vs a naive per-sample loop, and with
torch.compile on and off. Prints sequences per second and the ratios; asserts nothing.

    .venv/bin/python benchmarks/ntm_step.py [--device auto|cpu|cuda] [--batch 32] [--length 20]
"""

import argparse
import time

import torch

from augrnn.core.devices import pick_device
from augrnn.ntm.tasks import NTMConfig, NTMTask, bits_per_sequence, sample_batch
from timing import timeit


def batched_step(model, opt, b):
    loss = bits_per_sequence(model(b["x"]), b)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def per_sample_step(model, opt, b):
    """The straightforward reference: one sequence at a time, gradients accumulated."""
    opt.zero_grad(set_to_none=True)
    n = b["x"].shape[0]
    for i in range(n):
        one = {k: v[i : i + 1] for k, v in b.items()}
        (bits_per_sequence(model(one["x"]), one) / n).backward()
    opt.step()


def measure(step, model, b, device, seconds):
    """Sequences per second of `step` (the first call, timed apart, warms up and compiles)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    return b["x"].shape[0] / timeit(lambda: step(model, opt, b), device, seconds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args()
    device = pick_device(args.device)
    cfg = NTMConfig()
    b = sample_batch(cfg, args.batch, torch.Generator(device=device).manual_seed(0), device, size=args.length)
    print(
        f"device={device} threads={torch.get_num_threads()} batch={args.batch} length={args.length} "
        f"torch={torch.__version__}"
    )

    results = {}
    torch.manual_seed(0)
    results["per-sample loop"] = measure(
        per_sample_step, NTMTask().build_model(cfg).to(device), b, device, args.seconds
    )
    torch.manual_seed(0)
    results["batched"] = measure(batched_step, NTMTask().build_model(cfg).to(device), b, device, args.seconds)
    if not args.no_compile:
        torch.manual_seed(0)
        model = NTMTask().build_model(cfg).to(device)
        model.step = torch.compile(model.step)  # the per-time-step cell; the time loop stays in Python
        t0 = time.perf_counter()
        try:
            results["batched + torch.compile"] = measure(batched_step, model, b, device, args.seconds)
            print(f"(compile and warm-up included in the first step: {time.perf_counter() - t0:.0f} s in all)")
        except Exception as e:  # no compiler toolchain, unsupported backend...
            print(f"torch.compile unavailable here: {type(e).__name__}: {str(e)[:200]}")
    base = results["per-sample loop"]
    print(f"{'mode':28s} {'sequences/s':>12s} {'vs per-sample':>14s}")
    for mode, rate in results.items():
        print(f"{mode:28s} {rate:12.1f} {rate / base:13.1f}x")


if __name__ == "__main__":
    main()
