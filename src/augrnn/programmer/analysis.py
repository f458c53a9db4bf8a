"""What the Neural Programmer chapter measures on trained models: which programs they induce, per
question type, per table size, and the loss of partial programs (why compositions are not found)."""

from __future__ import annotations

import pandas as pd
import torch
from torch.nn import functional as F

from . import arithmetic, paper_model, tables
from .model import answer_correct, discrete, held_out, per_type_accuracy, run_steps

# --- the arithmetic programmer --------------------------------------------------------------------


@torch.no_grad()
def solved_expressions(runs: dict, cfg) -> pd.DataFrame:
    """Expressions (rows) x seeds (columns): whether the argmax program is right on every held-out
    example of that expression. `runs` maps seed -> trained run."""
    probe = arithmetic.held_out(cfg, "cpu")
    solved = {}
    for seed, r in runs.items():
        _, p_steps = r.model.cpu()(probe["tokens"], probe["numbers"])
        right = arithmetic.discrete_program_correct(p_steps, probe["numbers"], probe["y"])
        solved[f"seed {seed}"] = {
            e: bool(right[probe["which"] == i].all()) for i, e in enumerate(arithmetic.EXPRESSIONS)
        }
    return pd.DataFrame(solved)


# The arithmetic programmer's training methods, by plan kind (experiments.plan).
ARITHMETIC_METHODS = {
    "arithmetic": "soft selection (the article's)",
    "arithmetic-sampled": "sampled programs + memory",
    "arithmetic-sampled-nomemory": "sampled programs, no memory",
}


def arithmetic_runs(runs: dict) -> dict:
    """A chapter's arithmetic runs by method: {label: {seed: run}} (ARITHMETIC_METHODS, in its order)."""
    return {
        label: {key[1]: r for key, r in runs.items() if key[0] == kind}
        for kind, label in ARITHMETIC_METHODS.items()
        if any(key[0] == kind for key in runs)
    }


def arithmetic_results(by_method: dict, cfg) -> pd.DataFrame:
    """One row per method ({label: {seed: run}}) and seed: expressions solved by the argmax program (of
    11) and the held-out |error| of the trained model's answer (the soft mixture's for soft selection,
    the argmax program's otherwise)."""
    rows = []
    for label, runs in by_method.items():
        solved = solved_expressions(runs, cfg).sum(axis=0)
        rows += [
            {
                "method": label,
                "seed": seed,
                "expressions solved (of 11)": int(solved[f"seed {seed}"]),
                "held-out |error|": r.metrics.iloc[-1]["test_abs_error"],
            }
            for seed, r in runs.items()
        ]
    return pd.DataFrame(rows)


# --- table questions ------------------------------------------------------------------------------


def per_type_table(runs: dict, probe) -> pd.DataFrame:
    """One row per question type and seed: accuracy of the soft answer and of the induced program."""
    rows = []
    for seed, r in runs.items():
        for kind, (soft, program, n) in per_type_accuracy(r.model.cpu(), probe).items():
            rows.append(
                {
                    "question type": kind,
                    "seed": seed,
                    "soft answer": soft,
                    "induced program": program,
                    "columns used": 1 if kind in tables.SINGLE_COLUMN else 2,
                    "questions": n,
                }
            )
    return pd.DataFrame(rows)


@torch.no_grad()
def accuracy_by_kind(model, b, program: bool = False) -> dict:
    """Accuracy on single-column and on two-column questions of a batch: of the soft answer, or with
    `program` of the induced program (the argmax of every choice: the paper's test-time hardmax)."""
    out = model(b)
    ok = answer_correct(discrete(out, b) if program else out, b).float()
    single = torch.tensor([tables.QUESTION_TYPES[k] in tables.SINGLE_COLUMN for k in b["kind"]])
    return {
        "single-column questions": float(ok[single].mean()),
        "two-column questions": float(ok[~single].mean()),
        "all": float(ok.mean()),
    }


def earlier_claims(main: dict, table_runs: dict, probe, size: int) -> pd.DataFrame:
    """Our side of the earlier model's claims, one row per seed: the induced program's accuracy on
    single- and two-column questions of `probe` for each seed of the C = 3, T = 4 model (`main`,
    {seed: run}), and over `size` held-out questions for each seed of the C = 5 one ("more columns")."""
    row = lambda kind, seed, acc: {"experiment": kind, "metric": "accuracy", "seed": seed, "value": acc}
    rows = [
        row(kind, seed, acc)
        for seed, r in main.items()
        for kind, acc in accuracy_by_kind(r.model.cpu(), probe, program=True).items()
        if kind != "all"
    ]
    for (label, seed), r in table_runs.items():
        if label == "C=5, T=4":
            b = held_out(r.config, "cpu", size=size)
            rows.append(row("more columns", seed, accuracy_by_kind(r.model.cpu(), b, program=True)["all"]))
    return pd.DataFrame(rows)


@torch.no_grad()
def accuracy_by_columns(runs: dict, size: int, columns=(1, 2, 3, 5, 8)) -> pd.DataFrame:
    """Mean accuracy (over seeds) of models trained on C columns, asked about tables of other sizes.
    `runs` maps (label, seed) -> run; the label's first part ("C=3") names the training tables."""
    rows = []
    for (label, seed), r in runs.items():
        for c in columns:
            b = held_out(r.config, "cpu", size=size, columns=c)
            acc = float(answer_correct(r.model.cpu()(b), b).float().mean())
            rows.append({"trained on": label.split(",")[0], "seed": seed, "columns in the table": c, "accuracy": acc})
    return pd.DataFrame(rows).groupby(["trained on", "columns in the table"])["accuracy"].mean().unstack()


def program_text(out, hard, b, i: int) -> str:
    """The induced program of question i, e.g. 'reset() ; greater(red > 12) ; sum(blue)'."""
    cols = [tables.NAMES[b["names"][i][c]] for c in hard["p_col"][i].argmax(-1)]
    pivots = b["numbers"][i].gather(0, out["beta"][i].argmax(0)).int().tolist()
    steps = []
    for op, col in zip((tables.OPERATIONS[o] for o in hard["p_op"][i].argmax(-1)), cols):
        arg = {"sum": col, "print": col, "greater": f"{col} > {pivots[0]}", "lesser": f"{col} < {pivots[1]}"}.get(
            op, ""
        )
        steps.append(f"{op}({arg})")
    return " ; ".join(steps)


@torch.no_grad()
def gallery(model, size: int = 64, seed: int = 11, rows: int = 10, columns: int = 3) -> dict:
    """A fixed batch of questions with the model's soft outputs, its induced programs and whether each
    soft answer is right."""
    b = tables.make_batch(size, rows, columns, torch.Generator().manual_seed(seed), "cpu")
    out = model(b)
    hard = discrete(out, b)
    return {"batch": b, "out": out, "hard": hard, "right": answer_correct(hard, b)}


def first_of_each(g: dict, kinds) -> list[int]:
    """The first question of each named type in a gallery (a fixed rule)."""
    return [int(torch.nonzero(g["batch"]["kind"] == tables.QUESTION_TYPES.index(t))[0]) for t in kinds]


def failure_cases(g: dict) -> list[str]:
    """The first wrong question of each type, with its answer, induced and reference programs."""
    b, out, seen, lines = g["batch"], g["out"], set(), []
    for i in range(len(b["y"])):
        kind = tables.QUESTION_TYPES[int(b["kind"][i])]
        if g["right"][i] or kind in seen:
            continue
        seen.add(kind)
        reference = " ; ".join(op for op, _ in tables.TEMPLATES[kind][2])
        answer = "cells" if b["is_lookup"][i] else f"{int(b['y'][i])} (model: {float(out['scalar'][i]):.1f})"
        lines.append(
            f"{tables.describe(b, i)}\n    answer {answer}\n    induced:   {program_text(out, g['hard'], b, i)}"
            f"\n    reference: {reference}"
        )
    return lines


# Programs on the way to each composition: each is one step of the reference program short.
PARTIAL = {
    "sum greater and lesser": {
        "greater only": [("reset", None)] * 2 + [("greater", "A"), ("sum", "A")],
        "lesser only": [("reset", None)] * 2 + [("lesser", "A"), ("sum", "A")],
        "no filter": [("reset", None)] * 3 + [("sum", "A")],
    },
    "count greater or lesser": {
        "greater only": [("reset", None)] * 2 + [("greater", "A"), ("count", None)],
        "lesser only": [("reset", None)] * 2 + [("lesser", "A"), ("count", None)],
        "no filter": [("reset", None)] * 3 + [("count", None)],
    },
    "difference": {
        "sum of A only": [("reset", None)] * 3 + [("sum", "A")],
        "sum of B only": [("reset", None)] * 3 + [("sum", "B")],
    },
}


@torch.no_grad()
def partial_program_losses(model, huber_delta: float, size: int, seed: int = 12) -> pd.DataFrame:
    """Huber loss on held-out questions of each composition type: the reference program, the partial
    programs of PARTIAL, a constant 0 and the trained model."""
    rows = []
    for kind, programs in PARTIAL.items():
        b = tables.make_batch(
            size, 10, 3, torch.Generator().manual_seed(seed), "cpu", types=[tables.QUESTION_TYPES.index(kind)]
        )
        huber = lambda answer: float(F.huber_loss(answer, b["y"], delta=huber_delta))  # noqa: E731
        row = {"question type": kind, "reference program": huber(run_steps(b, tables.TEMPLATES[kind][2])[0])}
        row |= {f"partial: {name}": huber(run_steps(b, prog)[0]) for name, prog in programs.items()}
        row |= {"constant 0": huber(torch.zeros_like(b["y"])), "trained model": huber(model(b)["scalar"])}
        rows.append(row)
    return pd.DataFrame(rows).set_index("question type").T.round(1)


def constant_answer_error(cfg) -> float:
    """Held-out |error| of always answering 0: the baseline for the soft output's error."""
    return float(arithmetic.held_out(cfg, "cpu")["y"].abs().mean())


def paper_tables(runs: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For runs {(columns, seed): run} of the paper's model: the last logged dev and test accuracy of
    each run, and its hardmax accuracy per question kind on the probe (the `probe_*` metrics)."""
    final, kinds = [], []
    for (c, s), r in runs.items():
        last, key = r.final(), {"columns": c, "seed": s}
        final.append({**key, "dev_accuracy": last["dev_accuracy"], "test_accuracy": last["test_accuracy"]})
        kinds.append({**key, **{k.removeprefix("probe_"): v for k, v in last.items() if k.startswith("probe_")}})
    return pd.DataFrame(final), pd.DataFrame(kinds)


def per_kind_of(runs: dict, kind: str) -> pd.DataFrame:
    """paper_tables' hardmax accuracy per question kind for a chapter's runs of one plan kind (keys
    (kind, columns, seed)): one row per run, with its number of columns."""
    return paper_tables({key[1:]: r for key, r in runs.items() if key[0] == kind})[1].drop(columns="seed")


# The first seed of each single-column run of the paper's model, by its plan key's kind, and its label.
VARIANTS = {
    "paper": "the paper's model",
    "paper-nonoise": "no gradient noise",
    "paper-st": "+ gradient to the pivots",
    "paper-interacting": "trained on ordered numbers",
    "paper-st-interacting": "+ gradient to the pivots, trained on ordered numbers",
}


@torch.no_grad()
def paper_ablation(runs: dict) -> pd.DataFrame:
    """The controlled comparison of the paper's model with our two changes (VARIANTS, from a chapter's
    runs): hardmax accuracy per question kind and the share of two-number questions whose pivots are
    right, on the probe of the test distribution with the logic questions' numbers drawn independently
    (the paper's data as we read it) and ordered so both filters matter (`interacting`). Every run is
    tested on both."""
    rows = []
    for kind, label in VARIANTS.items():
        if (kind, 1, 0) not in runs:
            continue
        r = runs[(kind, 1, 0)]
        model = r.model.cpu()
        for interacting, numbers in ((False, "independent"), (True, "ordered")):
            b = paper_model.probe(r.config.replace(interacting=interacting), "cpu")
            by_kind = paper_model.accuracy_by_kind(model, b)
            rows.append(
                {
                    "model": label,
                    "logic numbers": numbers,
                    **{k: by_kind[k] for k in ("compare", "and", "or", "difference")},
                    "pivots right": paper_model.pivot_accuracy(model, b),
                    "all": float(paper_model.correct(model(b, hard=True), b).float().mean()),
                }
            )
    return pd.DataFrame(rows).set_index(["model", "logic numbers"])


# The experiment names of our table 2 rows (data/reference/neural_programmer.csv), by plan kind.
TABLE2_NAMES = {"paper": "table 2, {}", "paper-st-interacting": "table 2, {}, with our two changes"}


def table2_label(kind: str, columns: int) -> str:
    """The experiment name of a table 2 row for runs of plan kind `kind` on `columns` columns."""
    return TABLE2_NAMES[kind].format(f"{columns} column{'s' if columns > 1 else ''}")


def table2_rows(runs: dict) -> pd.DataFrame:
    """Our side of the paper's table 2, one row per seed: the last test accuracy (hardmax program) of
    each run of the paper's model, and of the same model with our two changes (VARIANTS' last)."""
    rows = [
        {
            "experiment": table2_label(kind, c),
            "metric": "test accuracy (hardmax program)",
            "seed": s,
            "value": r.final()["test_accuracy"],
        }
        for (kind, c, s), r in ((k, r) for k, r in runs.items() if len(k) == 3)
        if kind in TABLE2_NAMES
    ]
    return pd.DataFrame(rows)


def table2_kind_rows(runs: dict, kind: str = "paper-st-interacting") -> pd.DataFrame:
    """Our side of table 2 per question kind, for the runs of one plan kind of TABLE2_NAMES (by default
    the paper's model with our two changes): the last probe's hardmax accuracy per question kind, one row
    per run and kind."""
    kinds = paper_tables({key[1:]: r for key, r in runs.items() if key[0] == kind})[1].drop(columns="pivots")
    rows = kinds.melt(id_vars=["columns", "seed"], var_name="kind").sort_values("columns", kind="stable")
    rows["experiment"] = [f"{table2_label(kind, c)}: {k}" for c, k in zip(rows["columns"], rows["kind"])]
    return rows.assign(metric="hardmax accuracy on the probe")[["experiment", "metric", "seed", "value"]]


def protocol_runs(runs: dict, columns: int = 3, vary=None) -> list[tuple[str, object]]:
    """(label, run) for every run of the paper's model with our two changes on `columns` columns,
    whatever its budget and point of the paper's grids (the plan kinds "paper-st-interacting..."), labelled
    by the budget, Huber delta, lookup weight lambda, clipping norm and (when off) gradient noise. With
    `vary`, a tuple of those config fields, only the runs that differ from the first seed's
    "paper-st-interacting" run in no other of them."""
    fields = ("steps", "huber_delta", "lookup_weight", "clip", "grad_noise")
    base = runs[("paper-st-interacting", columns, 0)].config
    return [
        (
            f"{c.steps:,} updates, δ {c.huber_delta:g}, λ {c.lookup_weight:g}, clip {c.clip:g}"
            + ("" if c.grad_noise else ", no noise"),
            r,
        )
        for key, r in runs.items()
        if len(key) == 3 and key[0].startswith("paper-st-interacting") and key[1] == columns
        for c in [r.config]
        if vary is None or all(f in vary or getattr(c, f) == getattr(base, f) for f in fields)
    ]


def protocol_table(runs: dict, columns: int = 3) -> pd.DataFrame:
    """For protocol_runs, one row per run: the last dev and test accuracy, the test accuracy at the
    evaluation with the best dev accuracy (the paper selects its models on dev), and the last probe's
    hardmax accuracy per question kind."""
    rows = []
    for label, r in protocol_runs(runs, columns):
        m, last = r.metrics, r.final()
        best = m.loc[m["dev_accuracy"].idxmax()]
        rows.append(
            {
                "run": label,
                "dev": last["dev_accuracy"],
                "test": last["test_accuracy"],
                "best dev at update": int(best["step"]),
                "test there": best["test_accuracy"],
                **{k: last[f"probe_{k}"] for k in ("compare", "and", "or", "difference")},
            }
        )
    return pd.DataFrame(rows)
