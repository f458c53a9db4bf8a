"""An encoder-decoder whose decoder attends over any sequence of annotation vectors (Bahdanau et al.
2014, appendix A): words of a source sentence, frames of audio, regions of an image.

Encoders return `Encoded(annotations B x N x D, mask B x N, summary B x D)`. The decoder's query at
output step i is its previous state s_{i-1}; with `attention=None` it is the RNNencdec baseline,
which sees only the fixed summary vector at every step.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ..core.packing import packed_index, sort_by_length, unpack_rows, unpacker
from .decode import decode
from .mechanism import additive_scores, attend, dot_scores, general_scores, hard_attend

SCORES = ("additive", "dot", "scaled_dot", "general")

# The digit tasks (speech, image strips) share one vocabulary: tokens 0-9 are the digits.
DIGIT_BOS, DIGIT_EOS, DIGIT_VOCAB = 10, 11, 12


def shift_right(targets: torch.Tensor, bos: int) -> torch.Tensor:
    """Teacher forcing: the decoder's inputs B x T are (BOS, y_1, ..., y_{T-1}) for targets B x T."""
    return torch.cat([torch.full_like(targets[:, :1], bos), targets[:, :-1]], 1)


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Cross-entropy per output token: logits B x T x V, targets B x T. (As rows of B*T tokens: the
    same mean as classes on axis 1, without transposing B x T x V into a copy and back.)"""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=ignore_index)


class Decoded(NamedTuple):
    logits: torch.Tensor  # B x T x V
    weights: torch.Tensor  # B x T x N, the attention distributions (zeros without attention)
    log_choice: torch.Tensor | None  # B x T, hard attention: log-probability of the slot read


def _first(x: torch.Tensor | None, n: int):
    """The first n rows of x (x itself when it has n rows: no slice for autograd to undo)."""
    return x if x is None or x.shape[0] == n else x[:n]


class RealSteps(NamedTuple):
    """A decoder's real output steps, packed (see `Decoder.real_steps`); R rows in all."""

    logits: torch.Tensor  # R x V
    index: torch.Tensor  # R: each row's place in the flattened B x T
    weights: torch.Tensor  # R x N
    log_choice: torch.Tensor | None  # R, hard attention


class Encoded(NamedTuple):
    annotations: torch.Tensor  # B x N x D
    mask: torch.Tensor  # B x N, True where real
    summary: torch.Tensor  # B x D


class Attention(nn.Module):
    """Score functions: 'additive' (Bahdanau), 'dot' and 'general' (Luong et al. 2015), and
    'scaled_dot' (dot / sqrt(D), Vaswani et al. 2017). Luong's 'concat', v^T tanh(W [h_t; h_s]), is
    the additive score with W = [W_a, U_a] split in two, so it is not a separate kind here."""

    def __init__(self, kind: str, query_dim: int, key_dim: int, attn_dim: int = 64):
        super().__init__()
        if kind not in SCORES:
            raise ValueError(f"attention = {kind!r}; choose one of {', '.join(map(repr, SCORES))}")
        if kind in ("dot", "scaled_dot") and query_dim != key_dim:
            raise ValueError(f"'dot' attention needs query_dim == key_dim, got {query_dim} and {key_dim}")
        self.kind = kind
        if kind == "additive":
            self.w = nn.Linear(query_dim, attn_dim, bias=False)
            self.u = nn.Linear(key_dim, attn_dim)
            self.v = nn.Parameter(torch.randn(attn_dim) / attn_dim**0.5)
        elif kind == "general":
            self.weight = nn.Parameter(torch.randn(query_dim, key_dim) / query_dim**0.5)

    def prepare(self, annotations):
        """What can be computed once per sequence (U h for additive scores)."""
        return self.u(annotations) if self.kind == "additive" else annotations

    def forward(self, query, prepared, annotations, mask):
        q = query.unsqueeze(1)  # B x 1 x Dq
        if self.kind == "additive":
            scores = additive_scores(self.w(q), prepared, self.v)
        elif self.kind == "general":
            scores = general_scores(q, prepared, self.weight)
        else:
            scores = dot_scores(q, prepared, scale=self.kind == "scaled_dot")
        context, weights = attend(scores, annotations, mask)
        return context.squeeze(1), weights.squeeze(1)


class Decoder(nn.Module):
    """`read` "soft" takes the weighted sum of the annotations; "hard" reads one annotation drawn
    from the weights (Xu et al. 2015): a draw per step when given noise (training), the most likely
    annotation otherwise. `expected` (B, bool) makes a hard decoder read softly for those sequences:
    Xu et al. sec. 4.1 do so for half the images in training, and their code reads softly at test."""

    fused = True  # False: the soft additive decoder's steps run through autograd on a CPU too (`_loop`)

    def __init__(
        self,
        vocab: int,
        annot_dim: int,
        embed: int = 64,
        hidden: int = 128,
        attention: str | None = "additive",
        read: str = "soft",
    ):
        super().__init__()
        if read not in ("soft", "hard"):
            raise ValueError(f"read = {read!r}; choose 'soft' or 'hard'")
        if read == "hard" and attention is None:
            raise ValueError("read = 'hard' needs an attention score function, got attention = None")
        self.read = read
        self.embed = nn.Embedding(vocab, embed)
        self.init = nn.Linear(annot_dim, hidden)
        self.attention = Attention(attention, hidden, annot_dim) if attention else None
        self.cell = nn.GRUCell(embed + annot_dim, hidden)
        self.out = nn.Linear(hidden + annot_dim + embed, vocab)

    def start(self, enc: Encoded):
        prepared = self.attention.prepare(enc.annotations) if self.attention else None
        return torch.tanh(self.init(enc.summary)), prepared

    def step(self, prev_tokens, state, prepared, enc: Encoded, noise=None, expected=None):
        """One output step. noise: B x N uniform noise (hard attention in training) or None.
        Returns logits, state, weights (B x N or None) and the log-probability of the hard read."""
        emb = self.embed(prev_tokens)
        state, context, weights, log_choice = self.advance(emb, state, prepared, enc, noise, expected)
        logits = self.out(torch.cat([state, context, emb], -1))
        return logits, state, weights, log_choice

    def advance(self, emb, state, prepared, enc: Encoded, noise=None, expected=None):
        """The recurrent part of a step, from the previous token's embedding: (state, context,
        weights, log_choice). The output layer reads only its results, so training applies it once
        to every step (`forward`) instead of inside the loop."""
        log_choice = None
        if self.attention is None:
            context, weights = enc.summary, None
        else:
            context, weights = self.attention(state, prepared, enc.annotations, enc.mask)
            if self.read == "hard":  # without noise: the most likely annotation
                noise = None if noise is None else noise.unsqueeze(1)
                hard, _, log_choice = hard_attend(weights.unsqueeze(1), enc.annotations, noise)
                hard, log_choice = hard.squeeze(1), log_choice.squeeze(1)
                context = hard if expected is None else torch.where(expected.unsqueeze(1), context, hard)
        state = self.cell(torch.cat([emb, context], -1), state)
        return state, context, weights, log_choice

    def forward(self, enc: Encoded, inputs, noise=None, expected=None, lengths=None) -> Decoded:
        """Teacher forcing: inputs B x T (BOS, y_1, ..., y_{T-1}); for hard attention, noise B x T x N
        and `expected` B (see the class). The same numbers as `step` at every t: the embeddings and
        the output layer run once over all steps, only the recurrence loops.

        lengths (B, host list or CPU tensor): each sequence's real output steps. Step t then runs only
        for the sequences longer than t (see `real_steps`), and the logits, weights and
        log-probabilities past a sequence's end are zero. A loss that ignores those steps gets the
        numbers of the unpacked decoder (to float tolerance, tested) for the real steps' share of the
        work: about half of a translation batch."""
        b, t_max = inputs.shape
        if lengths is None:
            embs = self.embed(inputs)  # B x T x E
            steps = embs.transpose(0, 1).reshape(b * t_max, -1)  # packed step-major: T steps of B rows
            states, contexts, _, weights, logp = self._loop(enc, steps, noise, expected, [b] * t_max)
            bt = lambda rows: rows.view(t_max, b, *rows.shape[1:]).transpose(0, 1)  # -> B x T x ...
            logits = self.out(torch.cat([bt(states), bt(contexts), embs], -1))
            hard = self.read == "hard"
            return Decoded(logits, bt(weights).contiguous(), bt(logp).contiguous() if hard else None)
        real = self.real_steps(enc, inputs, lengths, noise, expected)
        unpack = lambda rows: unpack_rows(rows, real.index, b, t_max)  # zero past each sequence's end
        hard = self.read == "hard"
        return Decoded(unpack(real.logits), unpack(real.weights), unpack(real.log_choice) if hard else None)

    def real_steps(self, enc: Encoded, inputs, lengths, noise=None, expected=None) -> RealSteps:
        """`forward` on the real output steps only, packed, as a packed sequence runs them: rows sorted
        by length, so the sequences longer than t are the first n_t, and step t's rows follow step
        t - 1's; `index` gives each row's place in the flattened B x T. A loss over the real steps
        alone (translation's) needs no B x T x V logits padded with zeros."""
        b, t_max = inputs.shape
        order, sizes = sort_by_length(torch.as_tensor(lengths, device="cpu"), t_max)
        idx = order.to(inputs.device)
        enc = Encoded(*(x[idx] for x in enc))
        inputs, noise = inputs[idx], None if noise is None else noise[idx]
        expected = None if expected is None else expected[idx]
        # the real steps' embeddings, packed: one gather (its backward one scatter) instead of a slice a step
        at = packed_index(torch.arange(b, device=inputs.device), sizes, t_max)
        steps = self.embed(inputs).flatten(0, 1).index_select(0, at)
        states, contexts, steps, weights, logp = self._loop(enc, steps, noise, expected, sizes)
        logits = self.out(torch.cat([states, contexts, steps], -1))
        return RealSteps(logits, packed_index(idx, sizes, t_max), weights, logp)

    def _loop(self, enc: Encoded, embs, noise, expected, sizes):
        """The recurrence over embs R x E, the packed steps (step t's sizes[t] rows, the first of the
        batch, after step t - 1's): (states, contexts, embs, weights, log_choice), each packed the same
        way (log_choice None for a soft read). The soft read with additive scores runs as one function
        with a hand-written backward on a CPU (attention/decode.py): the same forward numbers to the
        last bit, the same gradients to float rounding, in far fewer calls."""
        state, prepared = self.start(enc)
        a = self.attention
        if self.fused and self.read == "soft" and a is not None and a.kind == "additive" and embs.device.type == "cpu":
            if bool(enc.mask.any(-1).all()):  # (decode has no guard for a row with no real slot)
                c = self.cell
                args = (enc.annotations, enc.mask, a.w.weight, a.v, c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh)
                states, contexts, weights = decode(embs, state, prepared, *args, sizes)
                return states, contexts, embs, weights, None
        noises = [None] * len(sizes) if noise is None else noise.unbind(1)
        outs, size = [], None
        # split, not a slice a step: the backward of T slices would fill a zero R x E gradient per step.
        for emb, noise_t, n in zip(embs.split(sizes), noises, sizes):
            if n != size:  # slice the per-sequence tensors once per batch size, not once per step
                size = n
                part = Encoded(*(_first(x, n) for x in enc))
                part_prepared, part_expected = _first(prepared, n), _first(expected, n)
            state, noise_t = _first(state, n), _first(noise_t, n)
            state, context, w, lp = self.advance(emb, state, part_prepared, part, noise_t, part_expected)
            if w is None:
                w = part.mask.new_zeros(part.mask.shape, dtype=state.dtype)
            outs.append((state, context, w, lp))
        states, contexts, weights, logp = zip(*outs)
        hard = self.read == "hard"
        return torch.cat(states), torch.cat(contexts), embs, torch.cat(weights), torch.cat(logp) if hard else None

    @torch.no_grad()
    def greedy(self, enc: Encoded, bos: int, eos: int, max_len: int, soft_read: bool = False):
        """Most likely token at each step; stops early once every sequence has emitted EOS.
        soft_read: a hard decoder reads the expectation instead of the most likely annotation."""
        b = enc.summary.shape[0]
        state, prepared = self.start(enc)
        tok = torch.full((b,), bos, dtype=torch.long, device=enc.summary.device)
        done = torch.zeros(b, dtype=torch.bool, device=tok.device)
        expected = torch.ones_like(done) if soft_read else None
        out, weights = [], []
        for _ in range(max_len):
            lg, state, w, _ = self.step(tok, state, prepared, enc, None, expected)
            tok = torch.where(done, torch.full_like(tok, eos), lg.argmax(-1))
            out.append(tok)
            if w is not None:
                weights.append(w)
            done = done | (tok == eos)
            if bool(done.all()):
                break
        return torch.stack(out, 1), (torch.stack(weights, 1) if weights else None)

    @torch.no_grad()
    def beam(self, enc: Encoded, bos: int, eos: int, max_len: int, k: int = 4):
        """Beam search, batched: the B x k hypotheses run as one batch of B*k. Returns B x T tokens of
        the highest-scoring hypothesis (sum of log-probabilities; finished ones are carried as is)."""
        b = enc.summary.shape[0]
        rep = lambda x: x.repeat_interleave(k, dim=0)
        enc_k = Encoded(rep(enc.annotations), rep(enc.mask), rep(enc.summary))
        state, prepared = self.start(enc_k)
        device = enc.summary.device
        tok = torch.full((b * k,), bos, dtype=torch.long, device=device)
        score = torch.zeros(b, k, device=device)
        score[:, 1:] = float("-inf")  # all beams start identical: keep one
        done = torch.zeros(b * k, dtype=torch.bool, device=device)
        base = (torch.arange(b, device=device) * k).unsqueeze(1)
        tokens, parents = [], []
        for _ in range(max_len):
            lg, state, _, _ = self.step(tok, state, prepared, enc_k)
            logp = F.log_softmax(lg, -1)
            vocab = logp.shape[-1]
            finished = torch.full_like(logp, float("-inf"))
            finished[:, eos] = 0.0  # a finished hypothesis only extends by EOS, at no cost
            logp = torch.where(done.unsqueeze(1), finished, logp)
            total = (score.reshape(-1, 1) + logp).reshape(b, k * vocab)
            score, idx = total.topk(k, dim=-1)
            parent = (base + idx // vocab).reshape(-1)
            tok = (idx % vocab).reshape(-1)
            state, done = state[parent], done[parent] | (tok == eos)
            tokens.append(tok)
            parents.append(parent)
            if bool(done.all()):
                break
        # Backtrack from the best hypothesis of each batch element (topk sorts: beam 0 is best).
        best = base.squeeze(1)
        seq = []
        for t in range(len(tokens) - 1, -1, -1):
            seq.append(tokens[t][best])
            best = parents[t][best]
        return torch.stack(seq[::-1], 1)


class TextEncoder(nn.Module):
    """Embedding + bidirectional GRU (Bahdanau's encoder). lengths: host-side list or CPU tensor."""

    def __init__(self, vocab: int, embed: int = 64, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, padding_idx=0)
        self.rnn = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.dim = 2 * hidden

    def forward(self, tokens, lengths_cpu):
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embed(tokens), lengths_cpu, batch_first=True, enforce_sorted=False
        )
        out, h = self.rnn(packed)
        # Not pad_packed_sequence: it copies each step's rows into a slice of its output, and the
        # backward of those in-place copies copies the whole B x N x D gradient once per distinct
        # batch size (about 8% of a translation step). One index_copy does it, backward one gather.
        unpack = unpacker(packed.sorted_indices, packed.batch_sizes.tolist(), tokens.shape[1])
        summary = torch.cat([h[0], h[1]], -1)  # last forward state, first backward state
        return Encoded(unpack(out.data), tokens != 0, summary)
