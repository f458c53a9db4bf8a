"""Soft attention: score every slot, softmax the scores, take the weighted sum.

This is the trick all four augmentations share (Olah & Carter 2016): instead of reading one place,
read everywhere a little, so that where to read is differentiable.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def dot_scores(query: torch.Tensor, keys: torch.Tensor, scale: bool = True) -> torch.Tensor:
    """Dot-product scores (Luong et al. 2015, 'dot'; scaled as in Vaswani et al. 2017).

    query: B x Q x D, keys: B x N x D -> scores B x Q x N.
    """
    s = query @ keys.transpose(-1, -2)
    return s / math.sqrt(query.shape[-1]) if scale else s


def additive_scores(query_proj: torch.Tensor, keys_proj: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Additive (Bahdanau) scores, eq. 6 and appendix A.1.2: e_ij = v^T tanh(W s_i + U h_j).

    query_proj = W s: B x Q x A, keys_proj = U h: B x N x A (project the keys once per sequence),
    v: A -> scores B x Q x N.
    """
    # tanh(x) = 2 sigmoid(2x) - 1, so v^T tanh(x) = 2 v^T sigmoid(2x) - sum(v): the same scores, but
    # torch's CPU tanh is not vectorised and takes ~6x its sigmoid's time on this B x Q x N x A tensor.
    x = (query_proj.unsqueeze(2) + keys_proj.unsqueeze(1)).mul_(2)
    return 2 * (torch.sigmoid(x) @ v) - v.sum()


def general_scores(query: torch.Tensor, keys: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Luong et al. 2015 'general': score(h_t, h_s) = h_t^T W h_s. query B x Q x D, keys B x N x E,
    weight D x E -> B x Q x N."""
    return (query @ weight) @ keys.transpose(-1, -2)


def attend(scores: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None):
    """Softmax over the last axis of `scores`, then the weighted sum of `values`.

    scores: B x Q x N, values: B x N x V, mask: B x N or B x Q x N, True where a slot may be read.
    Returns (context B x Q x V, weights B x Q x N). Masked slots get exactly zero weight; a row with
    no readable slot gets all-zero weights (and a zero context) rather than NaN.
    """
    if mask is not None:
        if mask.dim() == scores.dim() - 1:
            mask = mask.unsqueeze(-2)
        scores = scores.masked_fill(~mask, float("-inf"))
        any_open = mask.any(dim=-1, keepdim=True)
        scores = torch.where(any_open, scores, torch.zeros_like(scores))
        weights = torch.softmax(scores, dim=-1) * any_open
    else:
        weights = torch.softmax(scores, dim=-1)
    return weights @ values, weights


def hard_attend(weights: torch.Tensor, values: torch.Tensor, uniform: torch.Tensor | None = None):
    """Hard attention (Xu et al. 2015, sec. 4.1): read one slot, drawn from the attention weights.

    weights: B x Q x N (rows sum to 1), values: B x N x V, uniform: B x Q x N noise in (0, 1) that
    picks the slot by the Gumbel-max trick (so the draw is a function of the batch's noise and the
    same on every device), or None for the most likely slot. Returns (context B x Q x V, one-hot
    choice B x Q x N, log-probability of the choice B x Q). A slot of weight zero is never drawn.
    """
    logw = weights.clamp_min(1e-30).log()
    score = logw if uniform is None else logw - torch.log(-torch.log(uniform.clamp(1e-20, 1 - 1e-7)))
    pick = score.argmax(-1, keepdim=True)  # B x Q x 1
    onehot = F.one_hot(pick.squeeze(-1), weights.shape[-1]).to(values.dtype)
    return onehot @ values, onehot, logw.gather(-1, pick).squeeze(-1)


def coverage_penalty(
    weights: torch.Tensor, steps: torch.Tensor | None = None, slots: torch.Tensor | None = None
) -> torch.Tensor:
    """Xu et al.'s doubly stochastic regularisation: sum over slots of (1 - sum over steps of the
    weight)^2, so that every slot is attended to about once over the whole output.

    weights: B x T x N, steps: B x T, True for real output steps; slots: B x N, True for real slots
    (padding is left out of both). Returns the mean over the batch.
    """
    if steps is not None:
        weights = weights * steps.unsqueeze(-1).to(weights.dtype)
    gap = (1 - weights.sum(1)) ** 2  # B x N
    if slots is not None:
        gap = gap * slots.to(gap.dtype)
    return gap.sum(-1).mean()


def entropy(weights: torch.Tensor) -> torch.Tensor:
    """Entropy of each attention distribution: B x Q x N -> B x Q (0 log 0 = 0)."""
    return -(weights * weights.clamp_min(1e-30).log()).sum(-1)
