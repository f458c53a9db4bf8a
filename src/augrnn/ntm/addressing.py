"""Neural Turing Machine (Graves, Wayne & Danihelka 2014), section 3: addressing (figure 2, eqs. 5-9).

Addressing is split from memory access and from the controller, as in DeepMind's DNC code: the
functions below are pure tensor functions, batched over the batch B and the heads H. Shapes: memory
B x N x M (N locations of width M), weightings B x H x N.
"""

from __future__ import annotations

import torch

# --- addressing (section 3.3) ------------------------------------------------------------------


def content_weights(memory: torch.Tensor, key: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """Content addressing.

    memory B x N x M, key B x H x M, beta B x H (key strength >= 0) -> weights B x H x N.
    Eq. 5-6: w_c(i) = softmax_i(beta * K[k, M(i)]) with K the cosine similarity. An all-zero memory
    row or key has similarity 0 (normalising with an epsilon), never NaN.
    """
    # Cosine similarity from the row norms: one B x N reduction of the memory instead of a normalised
    # B x N x M copy of it at every step (and in the backward pass).
    dots = key @ memory.transpose(1, 2)  # B x H x N
    norms = key.norm(dim=-1).clamp_min(1e-8).unsqueeze(-1) * memory.norm(dim=-1).clamp_min(1e-8).unsqueeze(1)
    return torch.softmax(beta.unsqueeze(-1) * dots / norms, dim=-1)


def interpolate(w_content: torch.Tensor, w_prev: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Eq. 7: w_g = g * w_c + (1 - g) * w_prev. Weightings B x H x N, gate g B x H in [0, 1]."""
    g = g.unsqueeze(-1)
    return g * w_content + (1 - g) * w_prev


def shift(w: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Eq. 8, circular convolution: w~(i) = sum_j w(j) s(i - j).

    w B x H x N, s B x H x S with S odd; s[..., k] weights the offset k - S//2, so all mass on
    offset +1 moves the focus from location i to i + 1 (mod N).
    """
    # w padded circularly by S//2 locations at each end, wp[j] = w[(j - S//2) mod N], so every term
    # of eq. 8 is a slice of it: w[i - o] = wp[i - o + S//2]. Slices at fixed offsets keep a compiled
    # step's loops vectorised, where torch.roll's index modulo N made them scalar (its log too).
    half, n = s.shape[-1] // 2, w.shape[-1]
    if s.shape[-1] > n:
        raise ValueError(f"shift: {s.shape[-1]} offsets need at least as many locations, got {n}")
    wp = torch.cat([w[..., n - half :], w, w[..., :half]], dim=-1)
    out = s[..., :1] * wp[..., 2 * half : 2 * half + n]
    for k in range(1, s.shape[-1]):
        out = out + s[..., k : k + 1] * wp[..., 2 * half - k : 2 * half - k + n]
    return out


def sharpen(w: torch.Tensor, gamma: torch.Tensor, eps: float = 1e-16) -> torch.Tensor:
    """Eq. 9: w(i) = w~(i)^gamma / sum_j w~(j)^gamma, gamma B x H >= 1.

    Computed as a softmax of gamma * log w, so a large gamma cannot underflow the sum to zero.
    """
    return torch.softmax(gamma.unsqueeze(-1) * torch.log(w.clamp_min(eps)), dim=-1)


def address(memory, w_prev, key, beta, g, s, gamma, trace: dict | None = None):
    """The whole addressing pipeline of figure 2, for every head at once."""
    w_c = content_weights(memory, key, beta)
    w_g = interpolate(w_c, w_prev, g)
    w_s = shift(w_g, s)
    w = sharpen(w_s, gamma)
    if trace is not None:
        trace.update(content=w_c, interpolated=w_g, shifted=w_s, sharpened=w)
    return w
