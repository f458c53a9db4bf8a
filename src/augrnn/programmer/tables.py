"""The Neural Programmer's synthetic table questions (Neelakantan, Le & Sutskever 2015, section 4.1),
generated from a seed.

A table has R rows and C columns of random integers; each column has a name drawn from a pool of
words, so that the model must find a column by matching its name in the question. A question is one of
the templates below with column names and numbers filled in; numbers appear in the question as the
token <num>, their values are kept aside (as in the paper). Every template has a reference program in
the operation language of `augrnn.programmer.operations`, and the generator's answer *is* that program run
with one-hot choices; the tests check those answers against a plain pandas evaluation.

Shapes: table B x R x C; tokens B x L; numbers B x 2; lookup target B x R x C.
"""

from __future__ import annotations

import torch

from ..core.devices import per_device
from .operations import OPERATIONS, execute

NAMES = ("red", "green", "blue", "gold", "gray", "pink", "teal", "plum")  # the column-name pool

# name -> (question text, answer kind, reference program). A program step is (operation, column
# slot); {A} and {B} are the question's columns, {x} and {y} its numbers. `greater` compares with the
# number the greater-pivot points to, `lesser` with the lesser-pivot's: {x} or {y} as the text says.
TEMPLATES = {
    "sum": ("sum elements in column {A}", "scalar", [("reset", None), ("reset", None), ("reset", None), ("sum", "A")]),
    "count greater": (
        "count elements in column {A} greater than {x}",
        "scalar",
        [("reset", None), ("reset", None), ("greater", "A"), ("count", None)],
    ),
    "count lesser": (
        "count elements in column {A} lesser than {x}",
        "scalar",
        [("reset", None), ("reset", None), ("lesser", "A"), ("count", None)],
    ),
    "sum greater": (
        "sum elements in column {A} greater than {x}",
        "scalar",
        [("reset", None), ("reset", None), ("greater", "A"), ("sum", "A")],
    ),
    "sum lesser": (
        "sum elements in column {A} lesser than {x}",
        "scalar",
        [("reset", None), ("reset", None), ("lesser", "A"), ("sum", "A")],
    ),
    "sum greater and lesser": (
        "sum elements in column {A} greater than {x} and lesser than {y}",
        "scalar",
        [("greater", "A"), ("lesser", "A"), ("and", None), ("sum", "A")],
    ),
    "count greater or lesser": (
        "count elements in column {A} greater than {x} or lesser than {y}",
        "scalar",
        [("greater", "A"), ("lesser", "A"), ("or", None), ("count", None)],
    ),
    "difference": (
        "difference between sum of elements in column {A} and column {B}",
        "scalar",
        [("reset", None), ("sum", "A"), ("sum", "B"), ("difference", None)],
    ),
    "sum where greater": (
        "sum elements in column {A} whose field in column {B} is greater than {x}",
        "scalar",
        [("reset", None), ("reset", None), ("greater", "B"), ("sum", "A")],
    ),
    "count where lesser": (
        "count elements in column {A} whose field in column {B} is lesser than {x}",
        "scalar",
        [("reset", None), ("reset", None), ("lesser", "B"), ("count", None)],
    ),
    "print where greater": (
        "print elements in column {A} whose field in column {B} is greater than {x}",
        "lookup",
        [("reset", None), ("reset", None), ("greater", "B"), ("print", "A")],
    ),
    "print where greater and lesser": (
        "print elements in column {A} whose field in column {B} is greater than {x} and lesser than {y}",
        "lookup",
        [("greater", "B"), ("lesser", "B"), ("and", None), ("print", "A")],
    ),
}
QUESTION_TYPES = tuple(TEMPLATES)
SINGLE_COLUMN = tuple(n for n, (text, _, _) in TEMPLATES.items() if "{B}" not in text)
STEPS = 4  # T: every reference program has 4 steps; the answer is the last step's output

_WORDS = sorted({w for text, _, _ in TEMPLATES.values() for w in text.split() if not w.startswith("{")})
VOCAB = ("<pad>", "<num>") + tuple(_WORDS) + NAMES
_SLOTS = {"{A}": -1, "{B}": -2, "{x}": -3, "{y}": -4}  # placeholders in the template token table


def _template_tensors():
    rows = [[_SLOTS[w] if w in _SLOTS else VOCAB.index(w) for w in text.split()] for text, _, _ in TEMPLATES.values()]
    width = max(map(len, rows))
    tokens = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    ops = torch.tensor([[OPERATIONS.index(op) for op, _ in prog] for _, _, prog in TEMPLATES.values()])
    # Column slot per step: 0 = {A}, 1 = {B}; steps whose operation ignores the column use {A}.
    cols = torch.tensor([[1 if c == "B" else 0 for _, c in prog] for _, _, prog in TEMPLATES.values()])
    lookup = torch.tensor([kind == "lookup" for _, kind, _ in TEMPLATES.values()])
    n_numbers = torch.tensor([("{x}" in t) + ("{y}" in t) for t, _, _ in TEMPLATES.values()])
    return tokens, ops, cols, lookup, n_numbers


TEMPLATE_TOKENS, PROGRAM_OPS, PROGRAM_COLS, IS_LOOKUP, N_NUMBERS = _template_tensors()


@per_device
def _on() -> dict:
    """The template tables, made once per device: drawing a batch copies nothing from the host."""
    return {
        "tokens": TEMPLATE_TOKENS,
        "ops": PROGRAM_OPS,
        "cols": PROGRAM_COLS,
        "lookup": IS_LOOKUP,
        "n_numbers": N_NUMBERS,
        "name_ids": torch.tensor([VOCAB.index(n) for n in NAMES]),
    }


@per_device
def _types(types: tuple) -> torch.Tensor:
    return torch.tensor(types)


def question_text(kind: str, a: str, b: str = "", x: int = 0, y: int = 0) -> str:
    return TEMPLATES[kind][0].format(A=a, B=b, x=x, y=y)


def make_batch(
    batch: int, rows: int, columns: int, g: torch.Generator, device, *, types=None, value_range: int = 100
) -> dict:
    """B questions on B tables, all drawn from `g`. `types`: indices into QUESTION_TYPES to draw from
    (default: all; two-column types need columns >= 2)."""
    if types is None:
        types = range(len(QUESTION_TYPES)) if columns >= 2 else [QUESTION_TYPES.index(t) for t in SINGLE_COLUMN]
    types = _types(tuple(types), device)
    on = _on(device)
    kind = types[torch.randint(0, len(types), (batch,), generator=g, device=device)]
    table = torch.randint(-value_range, value_range + 1, (batch, rows, columns), generator=g, device=device).float()
    # Column names: the first C of a random permutation of the pool, per table.
    names = torch.rand(batch, len(NAMES), generator=g, device=device).argsort(1)[:, :columns]
    # The question's columns {A}, {B}: two distinct columns of the table.
    pick = torch.rand(batch, columns, generator=g, device=device).argsort(1)
    slot_cols = pick[:, :2] if columns >= 2 else pick[:, :1].expand(-1, 2)
    # Numbers: two draws, ordered so that "greater than x and lesser than y" keeps x < y and
    # "greater than x or lesser than y" keeps x > y (otherwise the selections are trivial).
    pair = (
        torch.randint(-value_range * 4 // 5, value_range * 4 // 5 + 1, (batch, 2), generator=g, device=device)
        .float()
        .sort(1)
        .values
    )
    wants_or = kind == QUESTION_TYPES.index("count greater or lesser")
    numbers = torch.where(wants_or[:, None], pair.flip(1), pair)
    numbers = numbers * (torch.arange(2, device=device) < on["n_numbers"][kind][:, None])

    tmpl = on["tokens"][kind]
    name_ids = on["name_ids"][names]  # B x C vocab ids
    col_word = name_ids.gather(1, slot_cols)  # B x 2: the words for {A} and {B}
    num_id = VOCAB.index("<num>")
    tokens = torch.where(tmpl == _SLOTS["{A}"], col_word[:, :1], tmpl)
    tokens = torch.where(tmpl == _SLOTS["{B}"], col_word[:, 1:], tokens)
    tokens = torch.where((tmpl == _SLOTS["{x}"]) | (tmpl == _SLOTS["{y}"]), num_id, tokens)
    # Where each number sits in the question (0 if absent; masked by `n_numbers`).
    x_pos = (tmpl == _SLOTS["{x}"]).float().argmax(1)
    y_pos = (tmpl == _SLOTS["{y}"]).float().argmax(1)

    prog_cols = slot_cols.gather(1, on["cols"][kind])  # B x T table column per step
    ops = on["ops"][kind]
    out = {
        "table": table,
        "tokens": tokens,
        "numbers": numbers,
        "number_pos": torch.stack([x_pos, y_pos], 1),
        "n_numbers": on["n_numbers"][kind],
        "names": names,
        "kind": kind,
        "is_lookup": on["lookup"][kind],
        "program_ops": ops,
        "program_cols": prog_cols,
        "columns": slot_cols,
    }
    # The reference answer: the template's program run with one-hot choices (pivots: x for greater and
    # y for lesser when the question has both numbers, else the one number).
    n_ops, n_cols = len(OPERATIONS), columns
    p_op = torch.nn.functional.one_hot(ops, n_ops).float()
    p_col = torch.nn.functional.one_hot(prog_cols, n_cols).float()
    two = out["n_numbers"] == 2
    pivot_g = numbers[:, 0]
    pivot_l = torch.where(two, numbers[:, 1], numbers[:, 0])
    scalar, lookup, _ = execute(table, p_op, p_col, pivot_g, pivot_l)
    out["y"] = scalar
    out["lookup"] = lookup
    out["pivots"] = torch.stack([pivot_g, pivot_l], 1)
    return out


def describe(batch: dict, i: int) -> str:
    """Question i of a batch as text, with its numbers."""
    words = [VOCAB[t] for t in batch["tokens"][i].tolist() if t != 0]
    nums = iter(int(v) for v in batch["numbers"][i].tolist())
    return " ".join(str(next(nums)) if w == "<num>" else w for w in words)
