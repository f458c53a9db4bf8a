"""A recurrence over a padded batch run as a packed sequence is: rows sorted by length, so the rows
still running at step t are the first n_t, and the per-step outputs put back in the batch's order.

Used by the attention decoder (real output steps only) and the ACT logic LSTM (real vectors only).
"""

from __future__ import annotations

from typing import Callable

import torch


def sort_by_length(lengths: torch.Tensor, steps: int) -> tuple[torch.Tensor, list[int]]:
    """(order, sizes) for lengths B: the rows by decreasing length (stable), on the lengths' device,
    and for each step t up to the longest row the number n_t of rows longer than t (host ints)."""
    order = lengths.argsort(descending=True, stable=True)
    sizes = (lengths.unsqueeze(0) > torch.arange(steps, device=lengths.device).unsqueeze(1)).sum(1).tolist()
    return order, sizes[: sum(n > 0 for n in sizes)]


def packed_index(order: torch.Tensor, sizes: list[int], steps: int) -> torch.Tensor:
    """Each packed row's place in the flattened B x steps: packed row (t, j), step t's j-th row, is
    step t of batch row order[j]."""
    return torch.cat([order[:n] * steps + t for t, n in enumerate(sizes)])


def unpacker(order: torch.Tensor, sizes: list[int], steps: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """unpack(rows): the packed rows sum(n_t) x ... (step t's n_t rows after step t-1's) -> B x steps
    x ..., in the batch's order and zero past each row's end. `order` on the rows' device."""
    b, where = order.shape[0], packed_index(order, sizes, steps)
    return lambda rows: unpack_rows(rows, where, b, steps)


def unpack_rows(rows: torch.Tensor, where: torch.Tensor, b: int, steps: int) -> torch.Tensor:
    """Packed rows R x ... -> B x steps x ...: row r at the flattened place where[r]
    (`packed_index`), zero elsewhere."""
    full = rows.new_zeros(b * steps, *rows.shape[1:]).index_copy(0, where, rows)
    return full.view(b, steps, *rows.shape[1:])
