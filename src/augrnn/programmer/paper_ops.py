"""The Neural Programmer's operations exactly as the paper defines them (Neelakantan, Le & Sutskever
2015, table 1 and the update equations of section 2.3), run on a batch of tables with soft or one-hot
choices.

Shapes: table B x M x C; row_mask B x M (padding rows are 0); choices p_op B x T x O, p_col B x T x C;
pivots B. At step t, with a = p_op[:, t] and col = p_col[:, t] (table 1; section 2.3):

    scalar_t     = a_count * sum_i rs_{t-1}(i) + a_difference * (scalar_{t-3} - scalar_{t-1})
                   + a_sum * sum_j col(j) sum_i rs_{t-1}(i) table(i, j)
    lookup_t     = a_print * rs_{t-1}(i) * col(j)                       ("assign" in the paper)
    rs_t         = a_and * min(rs_{t-1}, rs_{t-2}) + a_or * max(rs_{t-1}, rs_{t-2}) + a_reset * 1
                   + sum_j col(j) (a_greater * [table(i, j) > pivot_g] + a_lesser * [table(i, j) < pivot_l])

Nothing carries over: mass on a scalar or lookup operation contributes nothing to rs_t, and greater
and lesser compare the whole column, ignoring rs_{t-1}. The comparisons are exact, so no gradient
reaches the pivots through them (the paper's equations as written). Values the paper leaves open and
we choose: rs_0 = rs_{-1} = 1 on the real rows, scalar_{-2} = scalar_{-1} = scalar_0 = 0.

`pivot_scale` > 0 is our named deviation, off by default: the comparisons keep their exact values but
pass a gradient to the pivots as if they were sigmoid((table - pivot) / pivot_scale) (a straight-through
estimator), so the pivot softmax learns which of the question's numbers each comparison takes.
"""

from __future__ import annotations

import torch

# Table 1's operations in the order of the selector's softmax ("assign" is `print`).
OPS = ("sum", "count", "difference", "greater", "lesser", "and", "or", "print", "reset")
OP = {name: i for i, name in enumerate(OPS)}


def compare(diff: torch.Tensor, pivot_scale: float = 0.0) -> torch.Tensor:
    """[diff > 0] as 0/1; with pivot_scale > 0 its gradient is that of sigmoid(diff / pivot_scale)."""
    hard = (diff > 0).to(diff.dtype)
    if pivot_scale <= 0:
        return hard
    soft = torch.sigmoid(diff / pivot_scale)
    return hard + (soft - soft.detach())


def run(table, row_mask, p_op, p_col, pivot_g, pivot_l, pivot_scale: float = 0.0):
    """T steps of the operations. Returns scalar_T (B), lookup_T (B x M x C) and every step's row
    selector (B x T x M)."""
    rows0 = row_mask.to(table.dtype)
    greater = compare(table - pivot_g[:, None, None], pivot_scale) * rows0[:, :, None]
    lesser = compare(pivot_l[:, None, None] - table, pivot_scale) * rows0[:, :, None]
    rows_prev2 = rows_prev = rows0
    zero = table.new_zeros(table.shape[0])
    scalars = [zero, zero, zero]  # scalar_{t-3}, scalar_{t-2}, scalar_{t-1}
    selections = []
    for t in range(p_op.shape[1]):
        a, col = p_op[:, t], p_col[:, t]
        sums = (rows_prev[:, :, None] * table).sum(1)  # B x C: every column's sum over the selected rows
        scalar = (
            a[:, OP["count"]] * rows_prev.sum(1)
            + a[:, OP["difference"]] * (scalars[-3] - scalars[-1])
            + a[:, OP["sum"]] * (col * sums).sum(1)
        )
        lookup = a[:, OP["print"], None, None] * rows_prev[:, :, None] * col[:, None, :]
        compared = a[:, OP["greater"], None, None] * greater + a[:, OP["lesser"], None, None] * lesser
        rows = (
            a[:, OP["and"], None] * torch.minimum(rows_prev, rows_prev2)
            + a[:, OP["or"], None] * torch.maximum(rows_prev, rows_prev2)
            + a[:, OP["reset"], None] * rows0
            + (compared * col[:, None, :]).sum(2)
        )
        rows_prev2, rows_prev = rows_prev, rows
        scalars.append(scalar)
        selections.append(rows)
    return scalars[-1], lookup, torch.stack(selections, 1)
