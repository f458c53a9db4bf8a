"""The cost of attention, measured: an attention decoder scores every source position at every
output step (Britz 2016: a 50-word input and a 50-word output give 2,500 attention values).

Two measurements against source length, for each score function and for the decoder without
attention, on freshly initialised decoders (cost does not depend on the weights):
- time per decoded token at inference (greedy, no gradient), median of repeats;
- memory the training step keeps for the backward pass: bytes of the distinct tensors autograd
  saves while a batch is decoded with teacher forcing (counted by a saved-tensors hook, so the
  number is exact and the same on every run, unlike a timing).
"""

from __future__ import annotations

import statistics
import time

import torch

from .seq2seq import SCORES, Decoder, Encoded

NEVER = -1  # an EOS id no decoder emits: every sequence runs the full number of tokens


def _setup(kind: str | None, source: int, batch: int, dim: int, vocab: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    enc = Encoded(
        torch.randn(batch, source, dim, generator=g),
        torch.ones(batch, source, dtype=torch.bool),
        torch.randn(batch, dim, generator=g),
    )
    with torch.random.fork_rng(devices=[]):  # seeded weights, the caller's random state untouched
        torch.manual_seed(seed)
        return Decoder(vocab, dim, 64, dim, kind), enc


def decode_seconds(
    kind: str | None,
    source: int,
    tokens: int = 50,
    batch: int = 32,
    dim: int = 128,
    vocab: int = 1000,
    repeats: int = 5,
) -> float:
    """Seconds per decoded token (per sequence of the batch) at inference."""
    dec, enc = _setup(kind, source, batch, dim, vocab)
    dec.eval()
    with torch.no_grad():
        dec.greedy(enc, 0, NEVER, tokens)  # warm-up
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            dec.greedy(enc, 0, NEVER, tokens)
            times.append(time.perf_counter() - t)
    return statistics.median(times) / (tokens * batch)


def saved_bytes(
    kind: str | None, source: int, tokens: int = 50, batch: int = 32, dim: int = 128, vocab: int = 1000
) -> int:
    """Bytes autograd keeps for the backward pass of one teacher-forced batch (distinct storages)."""
    dec, enc = _setup(kind, source, batch, dim, vocab)
    inputs = torch.zeros(batch, tokens, dtype=torch.long)
    seen: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        dec(enc, inputs)
    return sum(seen.values())


def cost_table(sources=(10, 25, 50, 100, 200), tokens: int = 50, batch: int = 32, repeats: int = 5):
    """One row per decoder and source length: ms per 1,000 tokens, MB kept for backward per
    sequence, and the attention values of one sequence (output tokens x source positions)."""
    import pandas as pd

    rows = []
    for kind in (*SCORES, None):
        for n in sources:
            rows.append(
                {
                    "decoder": kind or "no attention",
                    "source length": n,
                    "ms per 1,000 tokens": 1e6 * decode_seconds(kind, n, tokens, batch, repeats=repeats),
                    "MB for backward per sequence": saved_bytes(kind, n, tokens, batch) / batch / 1e6,
                    "attention values per sequence": tokens * n if kind else 0,
                }
            )
    return pd.DataFrame(rows)
