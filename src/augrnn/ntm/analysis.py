"""The NTM chapter's numbers from trained runs: generalisation beyond the training sizes (the paper's
figs. 4-5, 8 and 11) and one row per seed for every claim of the paper's table in the chapter."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ..core.devices import fixed_generator
from .experiments import MEMORY_LABELS, PAPER_OPTIMISER
from .tasks import NTMTask, generalisation, sample_batch, sequences_to_converge


def generalisation_table(runs: dict, task: str, sizes, repeats=(None,), n: int = 32) -> pd.DataFrame:
    """Bit errors and cost of every run of `task` (runs keyed (task, model, seed)) at each test size,
    one row per (model, seed, size); repeat copy is averaged over the repeat counts in `repeats`
    (each evaluated on its own `n` sequences, since a batch shares its count)."""
    rows = []
    for (t, model, seed), r in runs.items():
        if t != task:
            continue
        for count in repeats:
            for row in _generalisation(r, sizes, n, count):
                rows.append({"model": model, "seed": seed, **row})
    table = pd.DataFrame(rows)
    if "marker_errors" in table:
        table["data_bit_errors"] = table["bit_errors"] - table["marker_errors"]
    return table.groupby(["model", "seed", "size"], sort=False).mean(numeric_only=True).reset_index()


def _generalisation(r, sizes, n: int, repeats) -> list[dict]:
    """`generalisation` of a run's model, or the same rows from its stored evaluations when it keeps
    no weights (NTMTask.evaluations: 32 sequences per test)."""
    if r.model is not None:
        return generalisation(r.model.cpu(), r.config, sizes, n=n, repeats=repeats)
    stored = [row for row in r.evaluations["generalisation"] if row.get("repeats") == repeats and row["size"] in sizes]
    if n != 32 or len(stored) != len(sizes):
        raise ValueError(f"a run without weights has no evaluation at sizes {list(sizes)}, repeats {repeats}, n={n}")
    order = ("size", "repeats", "bit_errors", "perfect", "cost", "marker_errors")  # generalisation's (JSON sorts)
    return [{k: row[k] for k in order if k in row} for row in stored]


def stand_in(runs: dict, stand_ins: dict) -> dict:
    """`runs` (keyed (task, model, seed)) with the runs of each (task, label) in `stand_ins` relabelled
    as the model they stand in for, whose own runs they replace."""
    replaced = {(task, model) for (task, _), model in stand_ins.items()}
    kept = {k: r for k, r in runs.items() if k[:2] not in replaced and k[:2] not in stand_ins}
    return kept | {(t, stand_ins[t, m], s): r for (t, m, s), r in runs.items() if (t, m) in stand_ins}


def _stand_in_table(table: pd.DataFrame, task: str, stand_ins: dict) -> pd.DataFrame:
    """A generalisation_table of `task` relabelled as `stand_in` relabels runs."""
    labels = {label: model for (t, label), model in stand_ins.items() if t == task}
    table = table[~table["model"].isin(set(labels.values()))]
    return table.assign(model=table["model"].replace(labels))


def ours_for_the_paper(runs: dict, copy_gen, repeat_longer, repeat_more, recall_gen, stand_ins=None) -> pd.DataFrame:
    """One row per seed and claim (experiment, metric, seed, value), named as in data/reference/ntm.csv.

    copy_gen: generalisation_table of copy; repeat_longer / repeat_more: of repeat copy at twice the
    training length (repeats 1-10) and at twice the repeats; recall_gen: of associative recall;
    stand_ins: {(task, label): model}: runs trained at a budget nearer the paper's that stand in for the
    paper's `model` on `task` (`stand_in`). Priority sort's claim on its write heads is the R^2 of the
    best-fitting head (`priority_writes`) of each NTM that keeps its weights."""
    stand_ins = stand_ins or {}
    runs = stand_in(runs, stand_ins)
    copy_gen, repeat_longer, repeat_more, recall_gen = (
        _stand_in_table(table, task, stand_ins)
        for table, task in (
            (copy_gen, "copy"),
            (repeat_longer, "repeat_copy"),
            (repeat_more, "repeat_copy"),
            (recall_gen, "associative_recall"),
        )
    )
    sort_fits = [
        (seed, priority_writes(r.model.cpu(), r.config)[2][2])
        for (task, model, seed), r in runs.items()
        if (task, model) == ("priority_sort", "NTM") and getattr(r, "model", None) is not None
    ]
    rows = []
    add = lambda exp, metric, seed, value: rows.append(
        {"experiment": exp, "metric": metric, "seed": seed, "value": value}
    )
    final, above, until = {}, {}, {}
    for (task, model, seed), r in runs.items():
        if model not in ("NTM", "LSTM", "NTM, LSTM controller", PAPER_OPTIMISER):  # copy's recipes: their own section
            continue
        until[task, model, seed] = sequences_to_converge(r.metrics, 0.1)
        exp, last = f"{task} / {model}", r.metrics.iloc[-1]
        final[task, model, seed] = float(last["test_cost"])
        add(exp, "training sequences until cost < 0.1 bit", seed, until[task, model, seed])
        add(exp, "final cost (bits per sequence)", seed, final[task, model, seed])
        if task == "ngrams":
            above[model, seed] = final[task, model, seed] - float(last["test_optimal_cost"])
            add(exp, "cost above the Bayesian optimum (bits per sequence)", seed, above[model, seed])
    for (model, seed), value in above.items():  # the NTM's "small, but significant" advantage
        if model == "NTM" and ("LSTM", seed) in above:
            add(
                "ngrams / NTM", "cost above the optimum, as a fraction of the LSTM's", seed, value / above["LSTM", seed]
            )
    # "the feedforward controller learns faster" (recall); the NTM "learns much faster" (repeat copy)
    for task, other, of in (
        ("associative_recall", "NTM, LSTM controller", "LSTM controller's"),
        ("repeat_copy", "LSTM", "LSTM's"),
    ):
        for seed in {s for t, m, s in until if (t, m) == (task, other)}:
            if (task, "NTM", seed) in until:
                ntm, slower = until[task, "NTM", seed], until[task, other, seed]
                ratio = 0.0 if math.isnan(slower) and not math.isnan(ntm) else ntm / slower  # NaN: never below 0.1
                add(f"{task} / NTM", f"sequences until cost < 0.1 bit, as a fraction of the {of}", seed, ratio)
    for (task, model, seed), value in final.items():
        if task == "priority_sort" and model == "NTM" and (task, "LSTM", seed) in final:
            add(
                "priority_sort / NTM",
                "final cost, as a fraction of the LSTM's",
                seed,
                value / final[task, "LSTM", seed],
            )
    for metric, seed, value in memory_comparison(runs):
        add("copy / NTM", metric, seed, value)
    copy_gen = copy_gen[copy_gen["model"].isin(["NTM", "LSTM"])]
    for _, row in copy_gen[copy_gen["size"].isin([20, 120])].iterrows():
        add(
            f"copy / {row['model']}", f"bit errors per sequence at length {row['size']}", row["seed"], row["bit_errors"]
        )
    for table, metric, column in (
        (
            repeat_longer,
            "bit errors per sequence at length {size} (repeats 1–10, twice the training length)",
            "bit_errors",
        ),
        (
            repeat_more,
            "data bit errors per sequence at {repeats} repeats (length {size}, twice the training repeats)",
            "data_bit_errors",
        ),
    ):
        for _, row in table.iterrows():
            name = metric.format(size=row["size"], repeats=int(row.get("repeats", 0)))
            add(f"repeat_copy / {row['model']}", name, row["seed"], row[column])
    for _, row in recall_gen[recall_gen["size"].isin([12, 15])].iterrows():
        exp = f"associative_recall / {row['model']}"
        add(exp, f"bit errors per sequence at {row['size']} items", row["seed"], row["bit_errors"])
        add(exp, f"cost (bits per sequence) at {row['size']} items", row["seed"], row["cost"])
    for seed, r2 in sort_fits:
        add("priority_sort / NTM", "R² of a linear fit of write location on priority (best write head)", seed, r2)
    return pd.DataFrame(rows)


def against_lstm(runs: dict, task: str, measure, name: str) -> pd.DataFrame:
    """Every NTM of `task` (any budget or rate) that has an LSTM of the same seed and updates, one row
    each: its plan label, updates and seed, `measure` of it and of that LSTM and their ratio (under 1:
    the NTM is better). Columns "NTM {name}", "LSTM {name}", "NTM / LSTM". NTMs without such an LSTM
    (recall's and sort's runs with the paper's optimiser) are left out: their sections compare curves."""
    mine = {k: r for k, r in runs.items() if k[0] == task}
    lstm = {(s, r.config.steps): measure(r) for (_, _, s), r in mine.items() if r.config.model.kind == "lstm"}
    rows = []
    for (_, label, seed), r in mine.items():
        if r.config.model.kind == "ntm" and (seed, r.config.steps) in lstm:
            ours, other = measure(r), lstm[seed, r.config.steps]
            rows.append(
                {"run": label, "updates": r.config.steps, "seed": seed, f"NTM {name}": ours, f"LSTM {name}": other}
                | {"NTM / LSTM": ours / other}
            )
    return pd.DataFrame(rows)


def sort_budgets(runs: dict) -> pd.DataFrame:
    """`against_lstm` of priority sort's final held-out cost, with the R^2 of each NTM's best write
    head's linear fit of location on priority (`priority_writes`)."""
    table = against_lstm(runs, "priority_sort", lambda r: float(r.metrics["test_cost"].iloc[-1]), "cost")
    ntms = [runs["priority_sort", row.run, row.seed] for row in table.itertuples()]
    return table.assign(**{"R² (best write head)": [priority_writes(r.model.cpu(), r.config)[2][2] for r in ntms]})


def ngram_budgets(runs: dict) -> pd.DataFrame:
    """`against_lstm` of N-grams' final held-out cost above the Bayesian optimum (eq. 10) on the same
    sequences, by updates and seed."""
    excess = lambda r: float(r.metrics["test_cost"].iloc[-1] - r.metrics["test_optimal_cost"].iloc[-1])
    table = against_lstm(runs, "ngrams", excess, "above the optimum")
    return table.sort_values(["updates", "seed"], kind="stable", ignore_index=True)


def network(cfg) -> str:
    """A plain description of a run's network: "LSTM 3 x 256" or "feedforward 256, 4 read + 4 write heads"."""
    m = cfg.model
    if m.kind == "lstm":
        return f"LSTM {m.lstm_layers} × {m.lstm_hidden}"
    controller = "LSTM" if m.controller == "lstm" else m.controller
    return f"{controller} {m.hidden}, {m.read_heads} read + {m.write_heads} write head{'s' * (m.write_heads > 1)}"


def parameter_counts(plan, readings=((4, 1), (5, 5))) -> pd.DataFrame:
    """Trainable weights of every network in `plan` (one row per task and model, from its first seed),
    and of the recall NTM with other head counts (`readings`: (read, write) pairs), since the paper's
    "4 heads" does not say of which kind: its parameter count (table 1) tells which reading fits."""
    rows, seen = [], set()
    for p in plan:
        task, model, _ = p.key
        if (task, model) in seen or model not in ("NTM", "LSTM", "NTM, LSTM controller"):
            continue
        seen.add((task, model))
        configs = [p.config]
        if (task, model) == ("associative_recall", "NTM"):
            configs += [
                p.config.replace(model=p.config.model.replace(read_heads=r, write_heads=w)) for r, w in readings
            ]
        for cfg in configs:
            weights = sum(w.numel() for w in NTMTask().build_model(cfg).parameters())
            rows.append({"task": task, "model": model, "network": network(cfg), "parameters": weights})
    return pd.DataFrame(rows)


MEMORY_SPEED = "sequences until cost < 0.1 bit of the next best memory initialisation, as a multiple of constant's"
MEMORY_RELIABILITY = "seeds below 0.1 bit with constant memory minus with the next best initialisation (share)"


def memory_comparison(runs: dict, threshold: float = 0.1) -> list[tuple[str, int, float]]:
    """Collier & Beel's claims on copy, seed by seed (the same seed: the same batches), against the next
    best memory initialisation (of learned and random, the one with more seeds below `threshold` bits,
    then the faster on average): (MEMORY_SPEED, seed, its sequences to `threshold` / constant's) where
    both got there, and (MEMORY_RELIABILITY, seed, 1 if only constant got there, -1 if only the other
    did, else 0), whose mean over seeds is the difference of the two shares of seeds that got there."""
    until = {}
    for (task, model, seed), r in runs.items():
        if task == "copy" and model in MEMORY_LABELS:
            until.setdefault(r.config.model.memory_init, {})[seed] = sequences_to_converge(r.metrics, threshold)
    others = [i for i in until if i != "constant"]
    if "constant" not in until or not others:
        return []

    def slowness(init):
        reached = [v for v in until[init].values() if not math.isnan(v)]
        return len(until[init]) - len(reached), sum(reached) / max(len(reached), 1)

    best, rows = until[min(others, key=slowness)], []
    for seed, constant in until["constant"].items():
        if seed in best:
            ok_constant, ok_best = not math.isnan(constant), not math.isnan(best[seed])
            rows.append((MEMORY_RELIABILITY, seed, float(ok_constant) - float(ok_best)))
            if ok_constant and ok_best:
                rows.append((MEMORY_SPEED, seed, best[seed] / constant))
    return rows


@torch.no_grad()
def errors_per_repetition(model, cfg, tests, n: int = 32, seed: int = 5) -> pd.DataFrame:
    """Repeat copy, test by test ((length, repeats) pairs, a column each): the mean data-bit errors in
    each repetition of the output (rows); the repetition after which the end marker first fires, mean
    over the sequences that have one (the paper's NTM fires it after every repetition beyond the
    eleventh); and the share of the `n` sequences with an end marker."""
    columns = {}
    for length, repeats in tests:
        b = sample_batch(cfg, n, fixed_generator(seed, "cpu"), "cpu", size=length, repeats=repeats)
        logits = model(b["x"])[:, length + 2 :]  # the output phase
        wrong = ((logits[..., : cfg.bits] > 0).float() != b["y"][:, length + 2 :, : cfg.bits]).float().sum(-1)
        per_rep = wrong[:, : length * repeats].reshape(n, repeats, length).sum(-1).mean(0)
        fires = logits[..., cfg.bits] > 0
        fired = fires.any(1)
        first = fires.float().argmax(1)[fired].float() / length  # empty (mean NaN) if none fires
        column = {f"repetition {i + 1}": float(v) for i, v in enumerate(per_rep)}
        column["end marker after repetition"] = float(first.mean())
        column["sequences with an end marker"] = float(fired.float().mean())
        columns[f"length {length}, {repeats} repeats"] = column
    longest = max(repeats for _, repeats in tests)
    rows = [f"repetition {i + 1}" for i in range(longest)] + [
        "end marker after repetition",
        "sequences with an end marker",
    ]
    return pd.DataFrame(columns).reindex(rows)


@torch.no_grad()
def priority_writes(model, cfg, n: int = 32, seed: int = 5) -> tuple[int, pd.DataFrame, tuple]:
    """Priority sort: where the NTM writes each input vector, against its priority, over `n` held-out
    sequences, for the write head whose locations a linear function of priority fits best (the paper
    does not say which head it fitted). Returns (head, table of priority and location, `linear_fit`).

    A location is the argmax of the head's weighting, unwrapped: the memory is circular, so the axis
    is rotated to start after the longest run of locations the head never writes."""
    b = sample_batch(cfg, n, fixed_generator(seed, "cpu"), "cpu")
    _, trace = model(b["x"], trace=True)
    items, size = b["priority"].shape[1], trace["sharpened"].shape[-1]
    best = None
    for head in range(cfg.model.write_heads):
        where = trace["sharpened"][:, :items, cfg.model.read_heads + head].argmax(-1).flatten()
        used = torch.zeros(size, dtype=torch.bool)
        used[where] = True
        start, longest, run = 0, -1, 0
        for i in range(2 * size):  # the longest circular run of unused locations ends at `start - 1`
            run = 0 if used[i % size] else run + 1
            if longest < run <= size:
                longest, start = run, (i + 1) % size
        table = pd.DataFrame(
            {"priority": b["priority"].flatten().numpy(), "location": ((where - start) % size).numpy()}
        )
        fit = linear_fit(table)
        if best is None or fit[2] > best[2][2]:
            best = (head, table, fit)
    return best


def linear_fit(table: pd.DataFrame) -> tuple[float, float, float]:
    """Least squares location = slope * priority + intercept, and its R^2 (the paper's fig. 17 test)."""
    slope, intercept = np.polyfit(table["priority"], table["location"], 1)
    residual = table["location"] - (slope * table["priority"] + intercept)
    total = ((table["location"] - table["location"].mean()) ** 2).sum()
    r2 = 1 - float((residual**2).sum() / total) if total > 0 else 0.0
    return float(slope), float(intercept), r2
