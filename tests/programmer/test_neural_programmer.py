import pandas as pd
import pytest
import torch
from torch.nn import functional as F

from augrnn.core.config import ConfigError
from augrnn.core.train import fit, numbers
from augrnn.programmer import model as NP
from augrnn.programmer import operations as OPS
from augrnn.programmer import tables as T


def hard_program(table, ops, cols, pivot_g, pivot_l):
    """The discrete program, written out with Python lists: one question at a time, one step at a time."""
    rows_n = len(table)
    rows_prev2 = rows_prev = [1.0] * rows_n
    s_prev2 = s_prev = 0.0
    lookup = None
    for op, c in zip(ops, cols):
        column = [r[c] for r in table]
        scalar, lookup, rows = 0.0, [[0.0] * len(table[0]) for _ in table], rows_prev
        if op == "sum":
            scalar = sum(v for v, s in zip(column, rows_prev) if s)
        elif op == "count":
            scalar = float(sum(rows_prev))
        elif op == "difference":
            scalar = s_prev2 - s_prev
        elif op == "greater":
            rows = [float(v > pivot_g) for v in column]
        elif op == "lesser":
            rows = [float(v < pivot_l) for v in column]
        elif op == "and":
            rows = [min(a, b) for a, b in zip(rows_prev, rows_prev2)]
        elif op == "or":
            rows = [max(a, b) for a, b in zip(rows_prev, rows_prev2)]
        elif op == "reset":
            rows = [1.0] * rows_n
        elif op == "print":
            for i, s in enumerate(rows_prev):
                lookup[i][c] = s
        rows_prev2, rows_prev, s_prev2, s_prev = rows_prev, rows, s_prev, scalar
    return scalar, lookup


def test_one_hot_choices_run_exactly_the_discrete_program():
    g = torch.Generator().manual_seed(0)
    B, R, C, steps = 64, 7, 3, 5
    table = torch.randint(-20, 21, (B, R, C), generator=g).float()
    ops = torch.randint(0, len(T.OPERATIONS), (B, steps), generator=g)
    cols = torch.randint(0, C, (B, steps), generator=g)
    pivots = torch.randint(-20, 21, (B, 2), generator=g).float()
    scalar, lookup, _ = OPS.execute(
        table,
        F.one_hot(ops, len(T.OPERATIONS)).float(),
        F.one_hot(cols, C).float(),
        pivots[:, 0],
        pivots[:, 1],
        softness=5.0,
    )
    for i in range(B):
        want_s, want_l = hard_program(
            table[i].tolist(), [T.OPERATIONS[o] for o in ops[i]], cols[i].tolist(), *pivots[i].tolist()
        )
        assert float(scalar[i]) == want_s
        assert lookup[i].tolist() == want_l


def pandas_answer(kind, df, a, b, x, y):
    """The question as a reader would answer it, with pandas."""
    if kind == "sum":
        return df[a].sum()
    if kind == "count greater":
        return (df[a] > x).sum()
    if kind == "count lesser":
        return (df[a] < x).sum()
    if kind == "sum greater":
        return df.loc[df[a] > x, a].sum()
    if kind == "sum lesser":
        return df.loc[df[a] < x, a].sum()
    if kind == "sum greater and lesser":
        return df.query(f"`{a}` > {x} and `{a}` < {y}")[a].sum()
    if kind == "count greater or lesser":
        return len(df.query(f"`{a}` > {x} or `{a}` < {y}"))
    if kind == "difference":
        return df[a].sum() - df[b].sum()
    if kind == "sum where greater":
        return df.loc[df[b] > x, a].sum()
    if kind == "count where lesser":
        return (df[b] < x).sum()
    if kind == "print where greater":
        return set(df.index[df[b] > x])
    if kind == "print where greater and lesser":
        return set(df.query(f"`{b}` > {x} and `{b}` < {y}").index)
    raise AssertionError(kind)


@pytest.mark.parametrize("columns", [1, 3, 5])
def test_generated_answers_agree_with_pandas(columns):
    b = T.make_batch(300, 8, columns, torch.Generator().manual_seed(columns), "cpu")
    seen = set()
    for i in range(300):
        kind = T.QUESTION_TYPES[int(b["kind"][i])]
        seen.add(kind)
        names = [T.NAMES[n] for n in b["names"][i]]
        df = pd.DataFrame(b["table"][i].int().numpy(), columns=names)
        # Read the column names and numbers back from the question's text.
        words = T.describe(b, i).split()
        cols = [words[j + 1] for j, w in enumerate(words) if w == "column"]
        nums = [int(w) for w in words if w.lstrip("-").isdigit()]
        a, bcol = cols[0], (cols[1] if len(cols) > 1 else None)
        x, y = (nums + [None, None])[:2]
        want = pandas_answer(kind, df, a, bcol, x, y)
        if isinstance(want, set):
            assert b["is_lookup"][i]
            selected = b["lookup"][i][:, names.index(a)]
            assert set(torch.nonzero(selected).flatten().tolist()) == want
            assert b["lookup"][i].sum() == len(want)  # nothing outside column {A}
        else:
            assert not b["is_lookup"][i]
            assert float(b["y"][i]) == float(want), (kind, T.describe(b, i))
    if columns >= 2:
        assert seen == set(T.QUESTION_TYPES)
    else:
        assert seen == set(T.SINGLE_COLUMN)


def test_batches_depend_only_on_the_seed():
    one = T.make_batch(32, 6, 3, torch.Generator().manual_seed(7), "cpu")
    two = T.make_batch(32, 6, 3, torch.Generator().manual_seed(7), "cpu")
    assert all(torch.equal(one[k], two[k]) for k in one)


def test_gradient_reaches_the_selectors_and_the_pivots():
    cfg = NP.ProgrammerConfig(model={"hidden": 16, "embed": 8})
    torch.manual_seed(0)
    model = NP.NeuralProgrammer(cfg.model)
    b = T.make_batch(64, 6, 3, torch.Generator().manual_seed(1), "cpu")
    loss, _ = NP.TableQA().loss(model, b, cfg)
    loss.backward()
    for name in (
        "op_vectors",
        "op_in.weight",
        "col_in.weight",
        "column_proj.weight",
        "pivot_vectors.weight",
        "history.weight_ih",
        "question.weight_ih_l0",
        "attend.weight",
    ):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_the_batch_is_one_computation_and_equals_questions_one_at_a_time():
    cfg = NP.ProgrammerConfig(model={"hidden": 16, "embed": 8})
    torch.manual_seed(0)
    model = NP.NeuralProgrammer(cfg.model).eval()
    b = T.make_batch(8, 5, 3, torch.Generator().manual_seed(2), "cpu")
    with torch.no_grad():
        whole = model(b)
        for i in range(8):
            one = model({k: v[i : i + 1] for k, v in b.items()})
            for k in ("scalar", "lookup", "p_op", "p_col", "pivots"):
                assert torch.allclose(one[k][0], whole[k][i], atol=1e-5), k


def test_training_is_deterministic_and_learns_something():
    cfg = NP.ProgrammerConfig(
        model={"hidden": 32, "embed": 16}, steps=60, batch_size=32, log_every=30, eval_size=64, grad_noise=1e-3, rows=5
    )
    a = fit(NP.TableQA(), cfg, None, progress=False).metrics
    assert numbers(a).equals(numbers(fit(NP.TableQA(), cfg, None, progress=False).metrics))
    assert a["loss"].iloc[-1] < a["loss"].iloc[0]


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ConfigError, match="columns"):
        NP.ProgrammerConfig(columns=len(T.NAMES) + 1)
    with pytest.raises(ConfigError, match="question_types"):
        NP.ProgrammerConfig(question_types="two")
