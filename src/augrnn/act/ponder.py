"""The inner steps of ACT (Graves 2016, section 2) for an LSTM cell, with a hand-written backward pass.

`ponder` runs the same recurrence as `ACTCell._ponder_loop`, operation for operation, so its
states and halting values are the same to the last bit. It differs in the backward pass. Autograd would
record every inner step's dozen small operations and run each one's backward as a node of its graph.
Here the forward records nothing, and one function walks the inner steps back, with one matrix product
for the recurrent weights' gradient over all steps. On a trained logic network's step (about 10 inner
steps per input) that is 288 autograd nodes instead of 4,174 and a fifth fewer operator calls in the
backward. tests/act/test_ponder.py checks it against autograd on the loop and finite differences.
(The same for the parity experiment's tanh RNN, whose inner steps are fewer and cheaper, was no faster
than autograd, so that cell keeps the loop.)

Shapes: first, later B x 4H (the input's share of the gates' pre-activations, with the first-step flag
and without), h0, c0 B x H, weight_hh 4H x H, halt_weight 1 x H, halt_bias 1. Returns the states after
every inner step, h and c B x K x H, and the halting values B x K (K: the inner steps taken, at most
max_steps).

The same two loops in C++ (act/ponder.cpp) run instead on a CPU wherever that file can be built
(core/native.py). They make the same ATen calls in the same order, except that the element-wise
arithmetic of the cell state and of the gates' derivatives runs in one pass with the same products and
sums in the same order, so the numbers are the same to the last bit (tested). A trained logic network's
step spends most of its time in these loops, and much of that in the cost of each small call.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.nn import functional as F

from ..core import native

_SOURCE = Path(__file__).with_name("ponder.cpp")  # the C++ loops


def ponder(first, later, h0, c0, weight_hh, halt_weight, halt_bias, max_steps: int, eps: float, use_native=True):
    """use_native: run the C++ loops on a CPU where they build (False: these Python ones)."""
    cpu = first.device.type == "cpu" and first.dtype in (torch.float32, torch.float64)
    lib = native.load(_SOURCE) if use_native and cpu else None
    return _Ponder.apply(first, later, h0, c0, weight_hh, halt_weight, halt_bias, max_steps, eps, lib)


class _Ponder(torch.autograd.Function):
    @staticmethod
    def forward(ctx, first, later, h0, c0, weight_hh, halt_weight, halt_bias, max_steps, eps, lib):
        ctx.lib = lib
        if lib is not None:
            h_all, c_all, eta_all, *ctx.steps = lib.forward(
                first, later, h0, c0, weight_hh, halt_weight, halt_bias, max_steps, eps
            )
            ctx.save_for_backward(weight_hh, halt_weight, h_all, eta_all)
            return h_all, c_all, eta_all
        h, c = h0, c0
        hs, cs, halts, steps = [], [], [], []
        total = torch.zeros(first.shape[0], device=first.device, dtype=first.dtype)
        going = None  # indices of the samples still pondering; None: all of them
        for n in range(max_steps):
            pre = first if n == 0 else later
            h_in, c_in, pre = (h, c, pre) if going is None else (h[going], c[going], pre[going])
            i, f, g, o = torch.addmm(pre, h_in, weight_hh.t()).chunk(4, dim=1)  # nn.LSTMCell's gates
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c_new = f * c_in + i * g
            tc = torch.tanh(c_new)
            h_new = o * tc
            steps.append((going, h_in, c_in, i, f, g, o, tc))
            if going is None:
                h, c = h_new, c_new
            else:  # a halted sample keeps its state: its later weights are 0 (eqs. 6 and 9)
                h, c = h.index_copy(0, going, h_new), c.index_copy(0, going, c_new)
            eta = torch.sigmoid(F.linear(h, halt_weight, halt_bias)).squeeze(-1)
            hs.append(h)
            cs.append(c)
            halts.append(eta)
            total = total + eta
            if n + 1 == max_steps:
                break
            left = (total < 1 - eps).nonzero().squeeze(-1)  # the host check, as in ACTCell._ponder_loop
            if len(left) == 0:
                break
            going = left if len(left) < first.shape[0] else None
        h_all, c_all, eta_all = torch.stack(hs, dim=1), torch.stack(cs, dim=1), torch.stack(halts, dim=-1)
        ctx.steps = steps
        ctx.save_for_backward(weight_hh, halt_weight, h_all, eta_all)
        return h_all, c_all, eta_all

    @staticmethod
    def backward(ctx, d_h_all, d_c_all, d_eta):
        weight_hh, halt_weight, h_all, eta_all = ctx.saved_tensors
        if ctx.lib is not None:
            grads = ctx.lib.backward(ctx.steps, weight_hh, halt_weight, h_all, eta_all, d_h_all, d_c_all, d_eta)
            return (*grads, None, None, None)
        # The halting unit eta^n = sigmoid(w . h^n + b) reads every sample's state after each inner step.
        d_pre_halt = d_eta * eta_all * (1 - eta_all)  # B x K
        d_h_all = d_h_all + d_pre_halt.unsqueeze(-1) * halt_weight  # B x K x H
        d_h = d_c = None  # the gradient reaching the state after step n from the steps after it
        d_later = d_h_all.new_zeros(d_h_all.shape[0], weight_hh.shape[0])
        d_zs, h_ins = [], []
        for n in reversed(range(eta_all.shape[1])):
            going, h_in, c_in, i, f, g, o, tc = ctx.steps[n]
            dh = d_h_all[:, n] if d_h is None else d_h_all[:, n] + d_h
            dc = d_c_all[:, n] if d_c is None else d_c_all[:, n] + d_c
            dh_in, dc_in = (dh, dc) if going is None else (dh[going], dc[going])
            dc_in = dc_in + dh_in * o * (1 - tc * tc)
            # the gates' pre-activations' gradient, i, f, g, o, written into one buffer's quarters
            d_z = dc_in.new_empty(dc_in.shape[0], 4 * dc_in.shape[1])
            d_i, d_f, d_g, d_o = d_z.chunk(4, dim=1)
            torch.mul(dc_in * g, i * (1 - i), out=d_i)
            torch.mul(dc_in * c_in, f * (1 - f), out=d_f)
            torch.mul(dc_in * i, 1 - g * g, out=d_g)
            torch.mul(dh_in * tc, o * (1 - o), out=d_o)
            dh_prev, dc_prev = d_z @ weight_hh, dc_in * f
            d_zs.append(d_z)
            h_ins.append(h_in)
            # The later steps share one input, `later`; only the samples that ran get its gradient.
            if n > 0 and going is None:
                d_later += d_z
            elif n > 0:
                d_later.index_add_(0, going, d_z)
            # A sample that did not run step n passed its state through unchanged.
            d_h = dh_prev if going is None else dh.index_copy(0, going, dh_prev)
            d_c = dc_prev if going is None else dc.index_copy(0, going, dc_prev)
        d_first = d_zs[-1]  # step 0 runs every sample
        d_weight_hh = torch.cat(d_zs).t() @ torch.cat(h_ins)
        d_halt_weight = d_pre_halt.reshape(1, -1) @ h_all.reshape(-1, h_all.shape[-1])
        d_halt_bias = d_pre_halt.sum().reshape(1)
        return d_first, d_later, d_h, d_c, d_weight_hh, d_halt_weight, d_halt_bias, None, None, None
