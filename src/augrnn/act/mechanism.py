"""Adaptive Computation Time (Graves 2016), section 2: the halting arithmetic and a cell that ponders.

At every input step the wrapped cell runs for a variable number of inner "ponder" steps. A sigmoid
halting unit reads each inner state; the network stops at the first inner step N whose summed
halting values reach 1 - eps (or at the cap), gives the remainder R to step N, and outputs the
halting-weighted mean of the inner states. The ponder cost N + R joins the loss, scaled by tau.
"""

from __future__ import annotations

import functools

import torch
from torch import nn
from torch.nn import functional as F

from .ponder import ponder


def halting_weights(h: torch.Tensor, eps: float = 0.01):
    """The halting arithmetic of section 2 for halting values h ... x K (the K-th step is the cap).

    Returns (p, n, r): the weights p ... x K (h^k before the halting step, the remainder at it, zero
    after; they sum to 1), the number of steps n ... (float) and the remainder r ....
    N = min{n : sum_{k<=n} h^k >= 1 - eps} (eq. 7), capped at K (eq. 13); R = 1 - sum_{k<N} h^k (eq. 8);
    p^n = h^n for n < N, p^N = R (eq. 6). Gradients reach h through p and R, never through N.
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
    state is the halting-weighted mean of every element (eq. 9). The inner steps run batched until
    every sample has halted (or `max_steps`), each step only for the samples that have not: a sample
    that has halted keeps its state while the others go on pondering, since its later weights are 0.
    """

    def __init__(self, cell: nn.Module, hidden: int, max_steps: int = 20, eps: float = 0.01, halt_bias: float = 1.0):
        super().__init__()
        self.cell, self.max_steps, self.eps = cell, max_steps, eps
        self.halt = nn.Linear(hidden, 1)
        # Graves (sec. 2): a positive initial halting bias makes the first updates ponder little.
        nn.init.constant_(self.halt.bias, halt_bias)

    def forward(self, x: torch.Tensor, state):
        single = not isinstance(state, tuple)  # an RNN's state B x H; an LSTM's the tuple (h, c)
        if isinstance(self.cell, nn.LSTMCell) and self.cell.bias:
            # The same inner steps as _ponder_loop, with a hand-written backward pass (act/ponder.py).
            first, later, _ = _inner_steps(self.cell, x)
            h, c, halts = ponder(
                first, later, *state, self.cell.weight_hh, self.halt.weight, self.halt.bias, self.max_steps, self.eps
            )
            states = (h, c)
        else:
            states, halts = self._ponder_loop(x, (state,) if single else state, single)
        p, steps, remainder = halting_weights(halts, self.eps)
        mean = tuple((p.unsqueeze(-1) * part).sum(1) for part in states)
        mean_state = mean[0] if single else mean
        return mean_state, steps + remainder, {"h": halts, "p": p, "steps": steps, "remainder": remainder}

    def _ponder_loop(self, x: torch.Tensor, parts: tuple, single: bool):
        """The inner steps, each recorded by autograd: (every state element's states B x K x ...,
        halting values B x K)."""
        first, later, step = _inner_steps(self.cell, x)
        advance = (lambda pre, s: (step(pre, s[0]),)) if single else step
        states, halts = [], []
        total = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
        going = None  # indices of the samples still pondering; None: all of them
        for n in range(self.max_steps):
            pre = first if n == 0 else later
            if going is None:
                parts = advance(pre, parts)
            else:
                # Only the samples still pondering run the cell: a halted sample's later states get
                # weight 0 in the mean (eqs. 6 and 9), so they are kept as they are instead of computed.
                moved = advance(pre[going], tuple(part[going] for part in parts))
                parts = tuple(old.index_copy(0, going, new) for old, new in zip(parts, moved))
            h = torch.sigmoid(self.halt(parts[0])).squeeze(-1)
            states.append(parts)
            halts.append(h)
            total = total + h
            if n + 1 == self.max_steps:
                break
            # One host check per inner step: the batch stops as soon as every sample has halted, and
            # the next step runs only the samples that have not.
            left = (total < 1 - self.eps).nonzero().squeeze(-1)
            if len(left) == 0:
                break
            going = left if len(left) < x.shape[0] else None
        return tuple(torch.stack(part, dim=1) for part in zip(*states)), torch.stack(halts, dim=-1)


def _inner_steps(cell: nn.Module, x: torch.Tensor):
    """(first, later, step): the inner steps' inputs and the cell's update, step(input, state) -> state.

    The input x is the same at every inner step; only the binary flag that marks the first one (sec. 2)
    differs. For nn.RNNCell and nn.LSTMCell the input's share of the pre-activations, x W_ih^T + biases,
    is therefore computed once per input (twice: with the flag 1 and 0) and each inner step does only the
    recurrent product, instead of concatenating and multiplying x again at every inner step. Any other
    cell gets the concatenated input at every step.
    """
    if isinstance(cell, (nn.RNNCell, nn.LSTMCell)) and cell.bias:
        w = cell.weight_ih
        later = F.linear(x, w[:, :-1], cell.bias_ih + cell.bias_hh)
        first = later + w[:, -1]
        if isinstance(cell, nn.LSTMCell):
            return first, later, functools.partial(_lstm_step, cell.weight_hh)
        act = torch.tanh if cell.nonlinearity == "tanh" else torch.relu
        return first, later, lambda pre, h: act(torch.addmm(pre, h, cell.weight_hh.t()))
    flag = x.new_zeros(x.shape[0], 1)
    return torch.cat([x, flag + 1], -1), torch.cat([x, flag], -1), cell


def _lstm_step(weight_hh: torch.Tensor, pre: torch.Tensor, state):
    """nn.LSTMCell's update (gates i, f, g, o) from the input's precomputed pre-activations."""
    h, c = state
    i, f, g, o = torch.addmm(pre, h, weight_hh.t()).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
