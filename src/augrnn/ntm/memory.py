"""Neural Turing Machine (Graves et al. 2014), sections 3.1-3.2: reading and writing memory.

Pure tensor functions. Shapes: memory B x N x M, weightings B x H x N, erase and add vectors B x H x M.
"""

from __future__ import annotations

import torch


def read(memory: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Eq. 2: r = sum_i w(i) M(i). memory B x N x M, w B x H x N -> B x H x M."""
    return w @ memory


def write(memory: torch.Tensor, w: torch.Tensor, erase: torch.Tensor, add: torch.Tensor) -> torch.Tensor:
    """Eq. 3-4: erase, then add. memory B x N x M, w B x H x N, erase and add B x H x M.

    With several write heads the erasures multiply (their order does not matter) and the additions
    sum, as section 3.2 of the paper describes.
    """
    wt = w.transpose(1, 2)  # B x N x H
    if w.shape[1] == 1:
        # One write head (every task but priority sort): M * (1 - w e^T) + w a^T = M + w (a - e * M),
        # broadcast over the width: no product over a head axis of size 1 (whose backward is costly)
        # and no batched outer product (a matrix product with an inner size of 1, slow on a CPU;
        # a compiled step fuses the whole write into one pass over the memory).
        return torch.addcmul(memory, wt, add - erase * memory)
    keep = torch.prod(1 - w.unsqueeze(-1) * erase.unsqueeze(-2), dim=1)  # B x N x M
    return memory * keep + wt @ add
