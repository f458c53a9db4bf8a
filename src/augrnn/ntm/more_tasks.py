"""The NTM paper's last two tasks (Graves et al. 2014, secs. 4.4-4.5): dynamic N-grams and
priority sort. Batches are dicts of x (B x T x inputs), y (B x T x outputs) and mask (B x T), as in
`augrnn.ntm.tasks`.
"""

from __future__ import annotations

import math

import torch

# --- dynamic N-grams (sec. 4.4) -------------------------------------------------------------------


def beta_half(shape, g, device) -> torch.Tensor:
    """Draws from Beta(1/2, 1/2): sin^2(pi U / 2) for U uniform is the arcsine law, which is
    Beta(1/2, 1/2) (so the draw comes from the seeded generator; torch's Beta takes none)."""
    return torch.sin(math.pi / 2 * torch.rand(shape, generator=g, device=device)) ** 2


def ngram_batch(batch: int, length: int, context: int, g, device):
    """Sequences of `length` bits from random N-gram models: one table of 2^context probabilities
    P(next bit = 1 | previous `context` bits) per sequence, each from Beta(1/2, 1/2); the first
    `context` bits are fair coin flips (the paper: 6-grams, so 5 bits of context and 32
    probabilities, 200 bits). The input at step t is bit t; the target is bit t + 1. The mask
    counts the predictions of bits that follow a full context (bits `context` .. length - 1)."""
    table = beta_half((batch, 2**context), g, device)
    uniform = torch.rand(batch, length, generator=g, device=device)
    bits = torch.zeros(batch, length, device=device)
    bits[:, :context] = (uniform[:, :context] < 0.5).float()
    weights = 2 ** torch.arange(context - 1, -1, -1, device=device).float()  # oldest bit is the high bit
    rows = torch.arange(batch, device=device)
    for t in range(context, length):
        ctx = (bits[:, t - context : t] @ weights).long()
        bits[:, t] = (uniform[:, t] < table[rows, ctx]).float()
    x = bits.unsqueeze(-1)
    y = torch.zeros_like(x)
    y[:, :-1, 0] = bits[:, 1:]
    mask = torch.zeros(batch, length, device=device)
    mask[:, context - 1 : length - 1] = 1.0
    return {"x": x, "y": y, "mask": mask, "table": table}


def optimal_ngram_bits(bits: torch.Tensor, context: int) -> torch.Tensor:
    """The Bayesian optimum's cost (eq. 10): each bit after a full context is predicted with
    P(1) = (N1 + 1/2) / (N1 + N0 + 1), N1 and N0 the ones and zeros seen so far after the same
    context in this sequence. bits: B x T -> cost in bits per sequence, B."""
    batch, length = bits.shape
    counts = torch.zeros(batch, 2**context, 2, device=bits.device)  # [..., 0]: zeros, [..., 1]: ones
    weights = 2 ** torch.arange(context - 1, -1, -1, device=bits.device).float()
    rows = torch.arange(batch, device=bits.device)
    cost = torch.zeros(batch, device=bits.device)
    for t in range(context, length):
        ctx = (bits[:, t - context : t] @ weights).long()
        n0, n1 = counts[rows, ctx, 0], counts[rows, ctx, 1]
        p1 = (n1 + 0.5) / (n1 + n0 + 1)
        bit = bits[:, t]
        cost -= torch.log2(torch.where(bit > 0, p1, 1 - p1))
        counts[rows, ctx, bit.long()] += 1
    return cost


# --- priority sort (sec. 4.5) ---------------------------------------------------------------------


def priority_sort_batch(batch: int, items: int, keep: int, width: int, g, device):
    """`items` random binary vectors, each with a priority drawn uniformly from [-1, 1] on its own
    channel, then a delimiter; the target is the `keep` vectors of highest priority, highest first
    (the paper: 20 vectors, the top 16). Inputs: width bits + priority + delimiter."""
    vectors = torch.randint(0, 2, (batch, items, width), generator=g, device=device).float()
    priority = torch.rand(batch, items, generator=g, device=device) * 2 - 1
    order = priority.argsort(dim=1, descending=True)[:, :keep]
    t = items + 1 + keep
    x = torch.zeros(batch, t, width + 2, device=device)
    x[:, :items, :width] = vectors
    x[:, :items, width] = priority
    x[:, items, width + 1] = 1.0
    y = torch.zeros(batch, t, width, device=device)
    y[:, items + 1 :] = vectors.gather(1, order.unsqueeze(-1).expand(-1, -1, width))
    mask = torch.zeros(batch, t, device=device)
    mask[:, items + 1 :] = 1.0
    return {"x": x, "y": y, "mask": mask, "priority": priority}
