"""Soft attention: score every slot, softmax the scores, take the weighted sum.

This is the trick all four augmentations share (Olah & Carter 2016): instead of reading one place,
read everywhere a little, so that where to read is differentiable.
"""

from __future__ import annotations

import math

import torch


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
    return torch.tanh(query_proj.unsqueeze(2) + keys_proj.unsqueeze(1)) @ v


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
