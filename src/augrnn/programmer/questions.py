"""The Neural Programmer's synthetic table questions as the paper builds them (Neelakantan, Le &
Sutskever 2015, section 3.1 and appendix tables 4-5), generated from a seed.

A table has M rows and C columns named A, B, C, ... A question is a template of appendix table 4
with column names filled in as in table 5, e.g. "greater 50.32 A and lesser 20.21 B sum C"; its
numbers are taken out of the token sequence (the token <num> stays) and kept aside, as in section 2.1.
Every template carries the program that answers it in the paper's four steps (table 3 shows three of
them), and the answer *is* that program run with one-hot choices (`augrnn.programmer.paper_ops.run`),
checked in the tests against a plain evaluation.

Templates with C columns: sum X, count, print X (aggregation); greater|lesser n X then sum Y, count
or print Y (comparison); greater n1 X and|or lesser n2 Y, in either order, then sum Z, count or print
Z (logic); sum X diff count and count diff sum X (arithmetic). That is 23 templates for one column,
307 for three and 1,231 for five, the paper's test-set sizes in table 2.

Shapes: tokens B x L; numbers, number_pos B x 2; table B x M x C; row_mask B x M; column_mask B x C;
lookup target B x M x C.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from .paper_ops import OPS, run

NAMES = tuple("ABCDEFGHIJ")
WORDS = ("<pad>", "<num>", "sum", "count", "print", "greater", "lesser", "and", "or", "diff", *NAMES)
WORD = {w: i for i, w in enumerate(WORDS)}
CATEGORIES = ("aggregation", "comparison", "logic", "arithmetic")
# Question types for the per-type accuracy: the paper's remark is about `difference`.
KINDS = ("sum", "count", "print", "compare", "and", "or", "difference")
STEPS = 4  # T: every template's program has four steps


@dataclass(frozen=True)
class Template:
    words: tuple[str, ...]  # the question, "<num>" where a number goes
    category: str
    kind: str
    program: tuple[tuple[str, int | None], ...]  # (operation, column) per step; None: any column
    pivots: tuple[int, int]  # which of the question's numbers greater and lesser compare with

    @property
    def answer_is_lookup(self) -> bool:
        return self.program[-1][0] == "print"


def _answers(c: int):
    """The last step's choices after a row selection: (words, program step, kind)."""
    yield from ((("sum", NAMES[y]), ("sum", y), "sum") for y in range(c))
    yield ("count",), ("count", None), "count"
    yield from ((("print", NAMES[y]), ("print", y), "print") for y in range(c))


def templates(columns: int) -> list[Template]:
    """Every template for a table of `columns` columns, in a fixed order."""
    reset = ("reset", None)
    out = []
    for x in range(columns):
        out.append(Template(("sum", NAMES[x]), "aggregation", "sum", (reset, reset, reset, ("sum", x)), (0, 0)))
    out.append(Template(("count",), "aggregation", "count", (reset, reset, reset, ("count", None)), (0, 0)))
    for x in range(columns):
        out.append(Template(("print", NAMES[x]), "aggregation", "print", (reset, reset, reset, ("print", x)), (0, 0)))
    for cmp, x in itertools.product(("greater", "lesser"), range(columns)):
        for words, last, _ in _answers(columns):
            out.append(
                Template(
                    (cmp, "<num>", NAMES[x], *words), "comparison", "compare", (reset, reset, (cmp, x), last), (0, 0)
                )
            )
    for logic, first, x, y in itertools.product(("and", "or"), ("greater", "lesser"), range(columns), range(columns)):
        second = "lesser" if first == "greater" else "greater"
        pivots = (0, 1) if first == "greater" else (1, 0)
        for words, last, _ in _answers(columns):
            out.append(
                Template(
                    (first, "<num>", NAMES[x], logic, second, "<num>", NAMES[y], *words),
                    "logic",
                    logic,
                    ((first, x), (second, y), (logic, None), last),
                    pivots,
                )
            )
    for x in range(columns):
        out.append(
            Template(
                ("sum", NAMES[x], "diff", "count"),
                "arithmetic",
                "difference",
                (("sum", x), reset, ("count", None), ("difference", None)),
                (0, 0),
            )
        )
        out.append(
            Template(
                ("count", "diff", "sum", NAMES[x]),
                "arithmetic",
                "difference",
                (("count", None), reset, ("sum", x), ("difference", None)),
                (0, 0),
            )
        )
    return out


MAX_WORDS = max(len(t.words) for t in templates(1))


def draw_templates(n: int, max_columns: int, g: torch.Generator, fixed_columns: bool = False):
    """n (columns, template) pairs drawn as section 3.1 says: the number of columns uniformly from
    1..max_columns (always max_columns if fixed_columns), a category uniformly, then a template of that
    category uniformly."""
    by = {c: {k: [t for t in templates(c) if t.category == k] for k in CATEGORIES} for c in range(1, max_columns + 1)}
    cols = torch.full((n,), max_columns) if fixed_columns else torch.randint(1, max_columns + 1, (n,), generator=g)
    cats = torch.randint(0, len(CATEGORIES), (n,), generator=g)
    picks = torch.rand(n, generator=g)
    out = []
    for c, k, u in zip(cols.tolist(), cats.tolist(), picks.tolist()):
        pool = by[c][CATEGORIES[k]]
        out.append((c, pool[min(int(u * len(pool)), len(pool) - 1)]))
    return out


def build(
    pairs, rows: tuple[int, int], value: float, max_columns: int, g: torch.Generator, interacting: bool = False
) -> dict:
    """Questions for (columns, template) pairs on fresh tables: rows drawn uniformly from rows[0]..rows[1],
    table entries and question numbers uniform in [-value, value] with two decimals.

    The paper does not say how a logic question's two numbers relate. Drawn independently (the default),
    "greater n1 and lesser n2" selects no row whenever n1 > n2 and "greater n1 or lesser n2" every row
    whenever n1 < n2: half of them, so half the logic questions do not need their second filter. With
    `interacting` (our choice, stated in the chapter) the two numbers are ordered so that both filters
    matter: greater's pivot is the smaller for `and` (a band) and the larger for `or` (two tails)."""
    n, m = len(pairs), rows[1]
    n_rows = torch.randint(rows[0], rows[1] + 1, (n,), generator=g)
    table = torch.round((torch.rand(n, m, max_columns, generator=g) * 2 - 1) * value * 100) / 100
    numbers = torch.round((torch.rand(n, 2, generator=g) * 2 - 1) * value * 100) / 100
    if interacting:
        low, high = numbers.min(1).values, numbers.max(1).values
        for i, (_, t) in enumerate(pairs):
            if t.kind in ("and", "or"):
                g_first = (low[i], high[i]) if t.kind == "and" else (high[i], low[i])  # (greater's, lesser's)
                numbers[i, t.pivots[0]], numbers[i, t.pivots[1]] = g_first
    row_mask = torch.arange(m) < n_rows[:, None]
    cols = torch.tensor([c for c, _ in pairs])
    column_mask = torch.arange(max_columns) < cols[:, None]
    table = table * row_mask[:, :, None] * column_mask[:, None, :]
    tokens = torch.zeros(n, MAX_WORDS, dtype=torch.long)
    number_pos = torch.zeros(n, 2, dtype=torch.long)
    n_numbers = torch.zeros(n, dtype=torch.long)
    ops = torch.zeros(n, STEPS, dtype=torch.long)
    op_cols = torch.zeros(n, STEPS, dtype=torch.long)
    pivots = torch.zeros(n, 2, dtype=torch.long)
    for i, (_, t) in enumerate(pairs):
        tokens[i, : len(t.words)] = torch.tensor([WORD[w] for w in t.words])
        at = [j for j, w in enumerate(t.words) if w == "<num>"]
        n_numbers[i] = len(at)
        number_pos[i, : len(at)] = torch.tensor(at, dtype=torch.long) if at else number_pos[i, :0]
        ops[i] = torch.tensor([OPS.index(op) for op, _ in t.program])
        op_cols[i] = torch.tensor([0 if c is None else c for _, c in t.program])
        pivots[i] = torch.tensor(t.pivots)
    numbers = numbers * (torch.arange(2) < n_numbers[:, None])
    scalar, lookup, _ = run(
        table,
        row_mask,
        F.one_hot(ops, len(OPS)).float(),
        F.one_hot(op_cols, max_columns).float(),
        numbers.gather(1, pivots[:, :1]).squeeze(1),
        numbers.gather(1, pivots[:, 1:]).squeeze(1),
    )
    return {
        "tokens": tokens,
        "numbers": numbers,
        "number_pos": number_pos,
        "n_numbers": n_numbers,
        "table": table,
        "row_mask": row_mask,
        "column_mask": column_mask,
        "program_ops": ops,
        "program_columns": op_cols,
        "program_pivots": pivots,
        "is_lookup": torch.tensor([t.answer_is_lookup for _, t in pairs]),
        "y": scalar,
        "lookup": lookup,
        "kind": torch.tensor([KINDS.index(t.kind) for _, t in pairs]),
        "template": [" ".join(t.words) for _, t in pairs],
    }
