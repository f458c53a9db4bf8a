"""The Neural Programmer's operations (Neelakantan, Le & Sutskever 2015, table 1 and section 2.3),
run softly on a batch of tables: `execute` is the whole language, used by the model and, with one-hot
choices, by the data generator.

Shapes: table B x R x C; operation choices B x T x O; column choices B x T x C; pivots B.

At each of T steps a selector, reading the question and a history RNN, puts a soft distribution over
operations (alpha_op, B x O) and over columns (alpha_col, B x C). Every operation runs on the table
and the previous steps' outputs, and each step's outputs are the alpha-weighted mixtures, kept apart
by type (paper, section 2.3):

    scalar_t     = a_sum * sum + a_count * count + a_difference * (scalar_{t-2} - scalar_{t-1})
    lookup_t     = a_print * row_select_{t-1} (x) alpha_col
    row_select_t = a_greater * greater + a_lesser * lesser + a_and * min(rs_{t-1}, rs_{t-2})
                   + a_or * max(rs_{t-1}, rs_{t-2}) + a_reset * 1
                   + (a_sum + a_count + a_difference + a_print) * rs_{t-1}

Two choices are ours where `papers.md` does not pin the paper's down: the operations that do not
select rows pass the row selection on (so "sum, then the difference" keeps the rows), and
`difference` subtracts the last step's scalar from the one before it. `greater` and `lesser` compare
with a pivot, a soft choice among the question's numbers made once per question (paper, section
2.3); the comparison is exact in the forward pass and its gradient goes to the pivot through a
sigmoid (a straight-through estimate), which is also ours.

The answer is the last step's scalar or lookup output. With one-hot choices `execute` runs the
discrete program exactly (tested), which is how the data generator computes its answers.
"""

from __future__ import annotations

import torch

from ..core.devices import per_device

# Operations of the Neural Programmer (paper, table 1), in the order the model's selector uses.
OPERATIONS = ("sum", "count", "difference", "greater", "lesser", "and", "or", "print", "reset")
SCALAR_OPS = ("sum", "count", "difference")
OP = {name: i for i, name in enumerate(OPERATIONS)}
ROW_PASS = [OP[n] for n in ("sum", "count", "difference", "print")]


@per_device
def _row_pass():
    return torch.tensor(ROW_PASS)


def compare(table: torch.Tensor, pivot: torch.Tensor, greater: bool, softness: float = 0.0) -> torch.Tensor:
    """table > pivot (or <), B x R x C against pivot B, as floats. With softness > 0 the forward value
    is still the exact comparison and the gradient to the pivot is a sigmoid's of width `softness`."""
    diff = table - pivot[:, None, None] if greater else pivot[:, None, None] - table
    hard = (diff > 0).float()
    if softness <= 0:
        return hard
    soft = torch.sigmoid(diff / softness)
    return hard + (soft - soft.detach())  # exactly `hard` forward: x - x is 0 in floating point


def execute(table, p_op, p_col, pivot_g, pivot_l, softness: float = 0.0):
    """Run T steps of soft (or one-hot) choices on the table.

    table: B x R x C; p_op: B x T x O; p_col: B x T x C; pivot_g, pivot_l: B.
    Returns the last step's scalar (B) and lookup (B x R x C) answers and the row selections B x T x R.
    """
    B, R, C = table.shape
    ones = table.new_ones(B, R)
    rows_prev2, rows_prev = ones, ones  # every row is selected before the first step
    scalar_prev2 = scalar_prev = table.new_zeros(B)
    greater = compare(table, pivot_g, True, softness)  # B x R x C, the same for every step
    lesser = compare(table, pivot_l, False, softness)
    selections = []
    for t in range(p_op.shape[1]):
        a, col = p_op[:, t], p_col[:, t]
        column = (table * col[:, None, :]).sum(2)  # B x R: the soft-selected column
        scalar = (
            a[:, OP["sum"]] * (rows_prev * column).sum(1)
            + a[:, OP["count"]] * rows_prev.sum(1)
            + a[:, OP["difference"]] * (scalar_prev2 - scalar_prev)
        )
        lookup = a[:, OP["print"], None, None] * rows_prev[:, :, None] * col[:, None, :]
        rows = (
            a[:, OP["greater"], None] * (greater * col[:, None, :]).sum(2)
            + a[:, OP["lesser"], None] * (lesser * col[:, None, :]).sum(2)
            + a[:, OP["and"], None] * torch.minimum(rows_prev, rows_prev2)
            + a[:, OP["or"], None] * torch.maximum(rows_prev, rows_prev2)
            + a[:, OP["reset"], None] * ones
            + a.index_select(1, _row_pass(a.device)).sum(1, keepdim=True) * rows_prev
        )
        rows_prev2, rows_prev = rows_prev, rows
        scalar_prev2, scalar_prev = scalar_prev, scalar
        selections.append(rows)
    return scalar, lookup, torch.stack(selections, 1)
