"""Decoding throughput of the translation model: with and without attention, greedy against beam.
Prints output tokens per second; asserts nothing.

    .venv/bin/python benchmarks/attention_decode.py [--device auto|cpu|cuda] [--batch 64] [--steps 40]

Models are freshly initialised (speed does not depend on the weights); every sequence is decoded for
exactly --steps tokens so that all modes do the same amount of work.
"""

import argparse

import torch

from augrnn.attention.seq2seq import Decoder, Encoded
from augrnn.core.devices import pick_device
from timing import timeit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--source", type=int, default=40, help="source length (annotations)")
    ap.add_argument("--steps", type=int, default=40, help="tokens decoded per sequence")
    ap.add_argument("--vocab", type=int, default=600)
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    device = pick_device(args.device)
    torch.manual_seed(0)
    enc = Encoded(
        torch.randn(args.batch, args.source, 128, device=device),
        torch.ones(args.batch, args.source, dtype=torch.bool, device=device),
        torch.randn(args.batch, 128, device=device),
    )
    never = args.vocab + 1  # an EOS id no decoder emits: every sequence runs --steps tokens
    print(f"device={device} batch={args.batch} source={args.source} steps={args.steps} torch={torch.__version__}")
    print(f"{'decoder':14s} {'search':8s} {'tokens/s':>10s}")
    results = {}
    for name, attention in (("attention", "additive"), ("no attention", None)):
        dec = Decoder(args.vocab + 2, 128, 64, 128, attention).to(device).eval()
        for search in ("greedy", f"beam {args.beam}"):
            run = (
                (lambda: dec.greedy(enc, 0, never, args.steps))
                if search == "greedy"
                else (lambda: dec.beam(enc, 0, never, args.steps, args.beam))
            )
            rate = args.batch * args.steps / timeit(run, device, args.seconds)
            results[(name, search)] = rate
            print(f"{name:14s} {search:8s} {rate:10.0f}")
    g, b = results[("attention", "greedy")], results[("attention", f"beam {args.beam}")]
    print(
        f"attention costs {results[('no attention', 'greedy')] / g:.2f}x the time of no attention (greedy); "
        f"beam {args.beam} is {g / b:.2f}x slower than greedy per output token"
    )


if __name__ == "__main__":
    main()
