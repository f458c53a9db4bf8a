"""The recurrence of the soft decoder with additive attention (`seq2seq.Decoder`), with a hand-written
backward pass.

`decode` runs the same steps as `Decoder._loop` (attention over the annotations with the previous state
as the query, then nn.GRUCell on the previous token's embedding and the context), operation for
operation, so its states, contexts and weights are the same to the last bit. It differs in the backward
pass. Autograd records each output step's few dozen small operations and runs each one's backward as a
node of its graph; here the forward records nothing, and one function walks the steps back, with one
matrix product for each weight's gradient over all steps. tests/attention/test_decode.py checks it
against autograd on the loop and against finite differences.

Shapes (R = sum(sizes), the real output steps packed step-major: step t's n_t = sizes[t] rows, the first
n_t sequences of the batch, follow step t - 1's): embs R x E, the previous tokens' embeddings; s0 B x H,
the decoder's first state; prepared B x N x A, U h + b (`Attention.prepare`); annotations B x N x D;
mask B x N, True where real (every row with at least one real slot); w_a A x H and v A, the score's W
and v; w_ih 3H x (E + D), w_hh 3H x H, b_ih, b_hh 3H, the GRU cell's. Returns the states R x H, the
contexts R x D and the attention weights R x N after every step.

The same two loops in C++ (attention/decode.cpp) run instead on a CPU wherever that file can be built
(core/native.py), with the same numbers to the last bit (tested).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..core import native

_SOURCE = Path(__file__).with_name("decode.cpp")  # the C++ loops


def decode(embs, s0, prepared, annotations, mask, w_a, v, w_ih, w_hh, b_ih, b_hh, sizes, use_native=True):
    """use_native: run the C++ loops on a CPU where they build (False: these Python ones)."""
    cpu = embs.device.type == "cpu" and embs.dtype in (torch.float32, torch.float64)
    lib = native.load(_SOURCE) if use_native and cpu else None
    return _Decode.apply(embs, s0, prepared, annotations, mask, w_a, v, w_ih, w_hh, b_ih, b_hh, list(sizes), lib)


def _gru(inp, s, w_ih, w_hh, b_ih, b_hh):
    """nn.GRUCell as ATen's CPU GRUCell computes it, in the same calls (so the same bits), keeping what
    the backward reads: the new state, gh (its three chunks now r, z and W_hn s + b_hn) and n."""
    gi, gh = torch.addmm(b_ih, inp, w_ih.t()), torch.addmm(b_hh, s, w_hh.t())
    gi_r, gi_z, gi_n = gi.unsafe_chunk(3, 1)
    gh_r, gh_z, gh_n = gh.unsafe_chunk(3, 1)
    r = gh_r.add_(gi_r).sigmoid_()
    z = gh_z.add_(gi_z).sigmoid_()
    n = gi_n.add(gh_n * r).tanh_()
    return (s - n).mul_(z).add_(n), gh, n


class _Decode(torch.autograd.Function):
    @staticmethod
    def forward(ctx, embs, s0, prepared, annotations, mask, w_a, v, w_ih, w_hh, b_ih, b_hh, sizes, lib):
        ctx.set_materialize_grads(False)  # an output the loss does not read (the weights, often) gets None
        ctx.sizes, ctx.lib = sizes, lib
        if lib is not None:
            states, contexts, weights, *saved = lib.forward(
                embs, s0, prepared, annotations, mask, w_a, v, w_ih, w_hh, b_ih, b_hh, sizes
            )
            ctx.save_for_backward(s0, prepared, annotations, w_a, v, w_ih, w_hh, states, weights, *saved)
            return states, contexts, weights
        empty, rows_all, slots = embs.new_empty, embs.shape[0], mask.shape[1]
        a, d, h = w_a.shape[0], annotations.shape[-1], s0.shape[-1]
        states, contexts, weights = empty(rows_all, h), empty(rows_all, d), empty(rows_all, slots)
        sigs = empty(rows_all, slots, a)  # sigmoid(2 (W s + U h)), which the backward reads
        inps = empty(rows_all, embs.shape[1] + d)  # the cell's inputs [embedding, context]
        ghs, ns = empty(rows_all, 3 * h), empty(rows_all, h)
        closed, v_sum = ~mask, v.sum()
        s, start = s0, 0
        for n in sizes:
            rows = slice(start, start + n)
            s = s[:n]
            # Attention.forward: additive_scores, then attend (every row has a real slot: no guard)
            x = (torch.mm(s, w_a.t()).unsqueeze(1) + prepared[:n]).mul_(2)
            # Each step's tensors are new ones, copied into the buffers: MKL's products round differently
            # where an input starts at another alignment, as a row of a buffer may.
            sigs[rows] = sig = torch.sigmoid(x)
            scores = (2 * (sig @ v) - v_sum).masked_fill_(closed[:n], float("-inf"))
            weights[rows] = w = torch.softmax(scores, -1)
            contexts[rows] = context = torch.bmm(w.unsqueeze(1), annotations[:n]).squeeze(1)
            inps[rows] = inp = torch.cat([embs[rows], context], -1)
            s, gh, new = _gru(inp, s, w_ih, w_hh, b_ih, b_hh)
            states[rows], ghs[rows], ns[rows] = s, gh, new
            start += n
        ctx.save_for_backward(s0, prepared, annotations, w_a, v, w_ih, w_hh, states, weights, sigs, inps, ghs, ns)
        return states, contexts, weights

    @staticmethod
    def backward(ctx, d_states, d_contexts, d_weights):
        s0, prepared, annotations, w_a, v, w_ih, w_hh, states, weights, *saved = ctx.saved_tensors
        if ctx.lib is not None:
            grads = ctx.lib.backward(
                ctx.sizes, s0, prepared, annotations, w_a, v, w_ih, w_hh, states, weights, saved,
                d_states, d_contexts, d_weights,
            )  # fmt: skip
            return (*grads[:4], None, *grads[4:], None, None)
        sigs, inps, ghs, ns = saved
        sizes, e = ctx.sizes, inps.shape[1] - annotations.shape[-1]
        w_ih_context = w_ih[:, e:]
        d_prepared, d_annotations = torch.zeros_like(prepared), torch.zeros_like(annotations)
        d_gi_all, d_gh_all = torch.empty_like(ghs), torch.empty_like(ghs)
        d_scores_all, d_q_all = torch.empty_like(weights), states.new_empty(states.shape[0], w_a.shape[0])
        starts = [sum(sizes[:t]) for t in range(len(sizes))]
        # the state each step read: s0 for step 0, else the first n_t rows of step t - 1's states
        prev = [s0[: sizes[0]]] + [states[starts[t - 1] : starts[t - 1] + sizes[t]] for t in range(1, len(sizes))]
        d_s = None  # the gradient reaching the state after step t from the steps after it
        for t in reversed(range(len(sizes))):
            n, rows = sizes[t], slice(starts[t], starts[t] + sizes[t])
            dh = d_states[rows].clone() if d_states is not None else states.new_zeros(n, states.shape[1])
            if d_s is not None:
                dh[: d_s.shape[0]] += d_s
            # GRU cell: s' = (s - n) z + n, n = tanh(i_n + r (W_hn s + b_hn)), r and z sigmoids
            s, new = prev[t], ns[rows]
            r, z, gh_n = ghs[rows].chunk(3, 1)
            d_a = dh * (1 - z) * (1 - new * new)
            d_gi, d_gh = d_gi_all[rows], d_gh_all[rows]
            d_gi_r, d_gi_z, d_gi_n = d_gi.chunk(3, 1)
            torch.mul(d_a * gh_n, r * (1 - r), out=d_gi_r)
            torch.mul(dh * (s - new), z * (1 - z), out=d_gi_z)
            d_gi_n.copy_(d_a)
            d_gh[:, : 2 * z.shape[1]] = d_gi[:, : 2 * z.shape[1]]
            torch.mul(d_a, r, out=d_gh[:, 2 * z.shape[1] :])
            # the context: the cell's input after the embedding, and an output
            d_context = d_gi @ w_ih_context
            if d_contexts is not None:
                d_context += d_contexts[rows]
            w = weights[rows]
            d_w = torch.bmm(annotations[:n], d_context.unsqueeze(2)).squeeze(2)  # n x N
            if d_weights is not None:
                d_w += d_weights[rows]
            d_annotations[:n].baddbmm_(w.unsqueeze(2), d_context.unsqueeze(1))
            # softmax (masked slots have weight 0, so gradient 0), then scores 2 v.sigmoid(x) - sum(v)
            d_scores = torch.mul(w, d_w - (d_w * w).sum(-1, keepdim=True), out=d_scores_all[rows])
            sig = sigs[rows]
            d_x2 = (4 * d_scores).unsqueeze(-1) * v * (sig * (1 - sig))  # x = 2 (W s + U h): d(W s + U h)
            d_prepared[:n] += d_x2
            d_q = torch.sum(d_x2, 1, out=d_q_all[rows])
            d_s = torch.addmm(dh * z, d_gh, w_hh).addmm_(d_q, w_a)
        s_prev = torch.cat(prev)
        if d_s.shape[0] < s0.shape[0]:  # rows with no output step at all
            d_s = torch.cat([d_s, d_s.new_zeros(s0.shape[0] - d_s.shape[0], d_s.shape[1])])
        d_v = 2 * (d_scores_all.reshape(1, -1) @ sigs.reshape(-1, sigs.shape[-1])).squeeze(0) - d_scores_all.sum()
        return (
            d_gi_all @ w_ih[:, :e],  # embs
            d_s,  # s0
            d_prepared,
            d_annotations,
            None,  # mask
            d_q_all.t() @ s_prev,  # w_a
            d_v,
            d_gi_all.t() @ inps,  # w_ih
            d_gh_all.t() @ s_prev,  # w_hh
            d_gi_all.sum(0),  # b_ih
            d_gh_all.sum(0),  # b_hh
            None,
            None,
        )
