"""Adaptive Computation Time (Graves 2016), section 2: the halting arithmetic and a cell that ponders.

At every input step the wrapped cell runs for a variable number of inner "ponder" steps. A sigmoid
halting unit reads each inner state; the network stops at the first inner step N whose summed
halting values reach 1 - eps (or at the cap), gives the remainder R to step N, and outputs the
halting-weighted mean of the inner states. The ponder cost N + R joins the loss, scaled by tau.
"""

from __future__ import annotations

import torch
from torch import nn


def halting_weights(h: torch.Tensor, eps: float = 0.01):
    """The halting arithmetic of section 2 for halting values h ... x K (the K-th step is the cap).

    Returns (p, n, r): the weights p ... x K (h^k before the halting step, the remainder at it, zero
    after; they sum to 1), the number of steps n ... (float) and the remainder r ....
    N = min{n : sum_{k<=n} h^k >= 1 - eps}, capped at K (eq. 7-8); R = 1 - sum_{k<N} h^k (eq. 9);
    p^n = h^n for n < N, p^N = R (eq. 10). Gradients reach h through p and R, never through N.
    Example: h = [0.3, 0.5, 0.4], eps = 0.01 -> p = [0.3, 0.5, 0.2], n = 3, r = 0.2.
    """
    total = h.cumsum(-1)
    before = total - h  # sum of the halting values of the earlier steps
    reached = total >= 1 - eps
    reached[..., -1] = True  # the cap: halt at the last step whatever the sum
    idx = reached.int().argmax(-1, keepdim=True)  # first step at which the budget is reached
    k = torch.arange(h.shape[-1], device=h.device)
    r = 1 - before.gather(-1, idx)
    p = torch.where(k < idx, h, torch.zeros_like(h)) + torch.where(k == idx, r, torch.zeros_like(h))
    return p, (idx + 1).squeeze(-1).to(h.dtype), r.squeeze(-1)


class ACTCell(nn.Module):
    """Wraps a recurrent cell `cell(input, state) -> state` (e.g. nn.RNNCell, nn.GRUCell, nn.LSTMCell).

    forward(x B x I, state) -> (mean state, ponder cost B, details dict). The state is a tensor B x H
    or, for an LSTM, the tuple (h, c); the halting unit reads h (the first element), and the mean
    state is the halting-weighted mean of every element (eq. 9). The inner steps run batched for the
    whole batch until every sample has halted (or `max_steps`); a sample that has halted keeps its
    output while the others go on pondering, since its later weights are 0.
    """

    def __init__(self, cell: nn.Module, hidden: int, max_steps: int = 20, eps: float = 0.01, halt_bias: float = 1.0):
        super().__init__()
        self.cell, self.max_steps, self.eps = cell, max_steps, eps
        self.halt = nn.Linear(hidden, 1)
        # Graves (sec. 2): a positive initial halting bias makes the first updates ponder little.
        nn.init.constant_(self.halt.bias, halt_bias)

    def forward(self, x: torch.Tensor, state):
        flag = torch.zeros(x.shape[0], 1, device=x.device, dtype=x.dtype)
        states, halts = [], []
        total = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
        for n in range(self.max_steps):
            # The binary flag marks the first inner step (sec. 2), so the cell knows a new input came.
            state = self.cell(torch.cat([x, flag + (n == 0)], dim=-1), state)
            parts = state if isinstance(state, tuple) else (state,)
            h = torch.sigmoid(self.halt(parts[0])).squeeze(-1)
            states.append(parts)
            halts.append(h)
            total = total + h
            # One host check per inner step lets the batch stop as soon as every sample has halted.
            if n + 1 < self.max_steps and bool((total >= 1 - self.eps).all()):
                break
        h = torch.stack(halts, dim=-1)  # B x K
        p, steps, remainder = halting_weights(h, self.eps)
        mean = tuple((p.unsqueeze(-1) * torch.stack(part, dim=1)).sum(1) for part in zip(*states))
        mean_state = mean if isinstance(state, tuple) else mean[0]
        return mean_state, steps + remainder, {"h": h, "p": p, "steps": steps, "remainder": remainder}
