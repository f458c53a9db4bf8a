"""The chapters' figures that take more than a plotting call: drawn from trained models, so the
notebooks keep to narration, a plan, and calls."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import pandas as pd
import torch

from ..attention.digit_strips import EOS, strip_batch
from ..attention.speech import speech_batch
from ..attention.translation import pad
from ..ntm.tasks import sample_batch
from ..programmer import arithmetic, paper_model, paper_ops, tables
from ..programmer import questions as paper_questions
from . import plots

# --- NTM ------------------------------------------------------------------------------------------

NTM_STAGES = ("content", "interpolated", "shifted", "sharpened")


def ntm_stages(model, cfg, length: int, head: int, name: str, seed: int = 2024):
    """The four addressing stages of one head (panels, one above the other), cropped to the locations it
    visits."""
    example = sample_batch(cfg, 1, torch.Generator().manual_seed(seed), "cpu", size=length)
    with torch.no_grad():
        _, trace = model(example["x"], trace=True)
    per_stage = [trace[stage][0, :, head] for stage in NTM_STAGES]  # each T x N
    cropped, labels = plots.visited_locations(per_stage[-1], *per_stage)
    every = -(-len(labels) // 10)  # at most about 10 location labels a panel, so they do not overlap
    labels = [label if i % every == 0 else "" for i, label in enumerate(labels)]
    fig, axes = plt.subplots(4, 1, figsize=(plots.WIDTH, 2.6 * 4), sharex=True)
    for i, (ax, stage, w) in enumerate(zip(axes.flat, NTM_STAGES, cropped[1:])):
        plots.heatmap(
            w.T,
            ax=ax,
            xlabel="time step" if i == 3 else "",
            vmax=1,
            y_labels=labels,
            ylabel="location",
            title=f"{name}: {stage}",
        )
    fig.tight_layout()
    return fig


def ntm_io(model, cfg, size: int, title: str, seed: int = 2024, repeats: int | None = None):
    """Inputs, targets and outputs above the write and read weightings, on one time axis."""
    b = sample_batch(cfg, 1, torch.Generator().manual_seed(seed), "cpu", size=size, repeats=repeats)
    with torch.no_grad():
        out, tr = model(b["x"], trace=True)
    n_read = cfg.model.read_heads
    (write, read_w), _ = plots.visited_locations(tr["sharpened"][0, :, n_read], tr["sharpened"][0, :, 0])
    return plots.sequence_panels(
        [
            ("inputs", b["x"][0].T),
            ("targets", (b["y"][0] * b["mask"][0, :, None]).T),
            ("outputs", (torch.sigmoid(out[0]) * b["mask"][0, :, None]).T),
            ("write\nweighting", write.T),
            ("read\nweighting", read_w.T),
        ],
        title=title,
    )


def ntm_long_output(ntm_model, lstm_model, cfg, size: int, title: str, repeats: int | None = None, seed: int = 99):
    """Targets and the models' outputs on one long sequence (copy, or repeat copy with `repeats`);
    `lstm_model` may be None (no stored LSTM run)."""
    b = sample_batch(cfg, 1, torch.Generator().manual_seed(seed), "cpu", size=size, repeats=repeats)
    out = b["mask"][0] > 0
    panels = [("targets", b["y"][0, out].T)]
    with torch.no_grad():
        for name, model in (("NTM", ntm_model), ("LSTM", lstm_model)):
            if model is not None:
                panels.append((name, torch.sigmoid(model(b["x"]))[0, out].T))
    return plots.sequence_panels(panels, title=title, height=0.9)


def curves_by_task(runs: dict, tasks, y: str, ylabel: str, logy: bool = False, floor: float | None = None, skip=()):
    """One learning-curve panel per task, one above the other (6 in wide, legible on a phone); `runs`
    keyed (task, model, seed), except the models in `skip`; mean over seeds, range as a band."""
    fig, axes = plt.subplots(len(tasks), 1, figsize=(plots.WIDTH, 3.4 * len(tasks)), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        frames = []
        for (t, model, seed), r in runs.items():
            if t == task and model not in skip:
                frames.append(r.metrics.assign(run=model, seed=seed))
        table = pd.concat(frames, ignore_index=True)
        if floor is not None:
            table[y] = table[y].clip(lower=floor)
        plots.learning_curves(table, y=y, ax=ax, logy=logy, title=task.replace("_", " "), ylabel=ylabel)
        ax.set_xlabel("training sequences")
        if "test_optimal_cost" in table:  # N-grams: the Bayesian optimum on the same held-out sequences
            ax.axhline(table["test_optimal_cost"].mean(), color="black", linestyle=":", label="optimum (eq. 10)")
            ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def cost_curves(runs: dict, task: str, models=None, logy: bool = True):
    """`curves_by_task` of the held-out cost of one task, every run of it or those whose model label is
    one of `models`: the chapters' budget and recipe comparisons."""
    chosen = {k: r for k, r in runs.items() if k[0] == task and (models is None or k[1] in models)}
    return curves_by_task(chosen, [task], "test_cost", "cost (bits per sequence)", logy, 1e-3 if logy else None)


def run_curves(runs: dict, keys):
    """`cost_curves` of single runs (`keys`: (task, model, seed), one task), a line each, labelled with
    model, seed and final held-out cost: a controlled comparison seed by seed."""
    chosen = {}
    for task, model, seed in keys:
        cost = runs[task, model, seed].metrics["test_cost"].iloc[-1]
        chosen[task, f"{model}, seed {seed}: {cost:.3g} bits at the end", seed] = runs[task, model, seed]
    fig = cost_curves(chosen, keys[0][0])
    fig.set_size_inches(plots.WIDTH, 3.4 + 0.3 * len(keys))  # room for the legend below the panel
    fig.axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    fig.tight_layout()
    return fig


def priority_sort_writes(head: int, table: pd.DataFrame, fit):
    """Write location against priority for one write head (`augrnn.ntm.analysis.priority_writes`), with
    the least-squares line `fit` = (slope, intercept, R^2): the paper's fig. 17 test."""
    slope, intercept, r2 = fit
    fig, ax = plt.subplots(figsize=(plots.WIDTH, 3.8))
    ax.scatter(table["priority"], table["location"], s=8, alpha=0.5, label="observed")
    ax.plot([-1, 1], [intercept - slope, intercept + slope], color="black", label=f"linear fit, R² = {r2:.2f}")
    ax.set(xlabel="priority of the input vector", ylabel=f"location written (write head {head + 1})")
    ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def by_size(table: pd.DataFrame, y: str, xlabel: str, ylabel: str, trained: int, floor: float = 1e-3):
    """`y` against test size per model (table: model, seed, size, y): mean over seeds, range as a
    band, log scale; a dotted line where the training sizes end (the paper's fig. 11)."""
    fig, ax = plt.subplots(figsize=(plots.WIDTH, 3.8))
    for model, rows in table.groupby("model", sort=False):
        per = rows.groupby("size")[y].agg(["mean", "min", "max"]).clip(lower=floor)
        ax.plot(per.index, per["mean"], marker="o", label=model)
        ax.fill_between(per.index, per["min"], per["max"], alpha=0.2)
    ax.axvline(trained + 0.5, color="grey", linestyle=":", label="longest in training")
    ax.set(yscale="log", xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    fig.tight_layout()
    return fig


# --- attention ------------------------------------------------------------------------------------

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


def alignment_examples(test) -> list[int]:
    """Which test sentences to show, by a fixed rule: the first three of at most 20 tokens, and the
    first of at most 25 tokens that names a month."""
    short = [i for i, (e, _) in enumerate(test) if len(e) <= 20][:3]
    dated = next((i for i, (e, _) in enumerate(test) if len(e) <= 25 and any(w in MONTHS for w in e)), None)
    return short + ([dated] if dated is not None and dated not in short else [])


def translation_alignments(model, data, max_out: int = 60):
    """Bahdanau's fig. 3 for our model: one heatmap per chosen test sentence (source x output)."""
    for i in alignment_examples(data["test"]):
        src = data["test"][i][0]
        out, weights = model.translate(pad([data["src"].encode(src)]), [len(src)], max_out)
        words = data["tgt"].decode(out[0].tolist())
        n = len(words) + 1  # and the end-of-sentence step
        fig, ax = plt.subplots(figsize=(min(plots.WIDTH, max(4, 0.32 * len(src) + 2)), max(2.5, 0.3 * n + 1)))
        plots.heatmap(
            weights[0, :n, : len(src)],
            x_labels=src,
            y_labels=words + ["</s>"],
            ax=ax,
            title=f"test sentence {i}",
            vmax=1,
        )
        ax.tick_params(axis="x", rotation=90)


def speech_attention(model, cfg, n_digits: int = 3, seed: int = 3, path=None):
    """The spectrogram of one held-out utterance above the speller's attention over its frames."""
    b = speech_batch(cfg, 1, torch.Generator().manual_seed(seed), "cpu", "test", n_digits, path=path)
    out, w = model.transcribe(b["x"], b["len"], n_digits + 1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(plots.WIDTH, 5), gridspec_kw={"height_ratios": [1, 1.2]})
    top.imshow(b["x"][0].T, aspect="auto", origin="lower", cmap="magma")
    top.set_ylabel("mel band")
    top.set_title(f"true digits {b['y'][0, :n_digits].tolist()}, transcribed {out[0][:n_digits].tolist()}")
    plots.heatmap(
        w[0],
        ax=bottom,
        xlabel="listener frame (80 ms)",
        y_labels=[str(t) for t in out[0].tolist()],
        ylabel="emitted",
        vmax=1,
    )
    fig.tight_layout()
    return fig


def strip_attention(model, cfg, n_digits: int = 4, seed: int = 11):
    """One held-out strip, with the attention over its regions at each emitted token."""
    return strip_readers_attention({"": model}, cfg, n_digits, seed)


def strip_readers_attention(models: dict, cfg, n_digits: int = 4, seed: int = 11):
    """The same held-out strip read by each model (a column per model, named by its key; a row per
    emitted token): the attention weights over the regions at each emitted token. A hard reader reads
    the region of largest weight. One column of panels per model keeps the figure 6 in wide."""
    b = strip_batch(cfg, 1, torch.Generator().manual_seed(seed), "cpu", "test", n_digits)
    steps = n_digits + 1
    fig, axes = plt.subplots(steps, len(models), figsize=(plots.WIDTH, 0.9 * steps + 0.3), squeeze=False)
    for col, (name, model) in enumerate(models.items()):
        out, w = model.read(b["x"], steps)
        for t in range(steps):
            ax = axes[t, col]
            ax.axis("off")
            if t >= out.shape[1]:
                continue
            ax.imshow(b["x"][0, 0], cmap="gray_r")
            heat = w[0, t].reshape(2, -1)
            ax.imshow(
                torch.nn.functional.interpolate(heat[None, None], size=b["x"].shape[-2:], mode="nearest")[0, 0],
                cmap="autumn",
                alpha=0.45,
            )
            token = int(out[0, t])
            emitted = "</s>" if token == EOS else str(token)
            ax.set_title(f"{name}\nemits {emitted}" if name and t == 0 else f"emits {emitted}", fontsize=12)
    fig.tight_layout()
    return fig


# --- Neural Programmer ----------------------------------------------------------------------------


@torch.no_grad()
def arithmetic_programs(model, shown=("a + b", "a - b", "a + b - c", "( a + b ) * c")):
    """Operation distributions per step (rows) for each expression in `shown` (one panel each, stacked)."""
    shown = list(shown)
    _, p_steps = model(arithmetic.encode(shown), torch.zeros(len(shown), 3))
    # One panel per row, 6 in wide, so the labels stay legible on a narrow page.
    fig, axes = plt.subplots(len(shown), 1, figsize=(plots.WIDTH, 1.9 * len(shown) + 0.8), sharex=True, squeeze=False)
    for ax, expr, p in zip(axes[:, 0], shown, p_steps):
        plots.heatmap(
            p,
            x_labels=arithmetic.OPERATIONS,
            y_labels=[f"step {t + 1}" for t in range(p.shape[0])],
            ax=ax,
            title=expr,
            vmax=1,
        )
    axes[-1, 0].tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    return {expr: [arithmetic.OPERATIONS[i] for i in p.argmax(-1)] for expr, p in zip(shown, p_steps)}


def table_programs(g: dict, picks):
    """The Distill figure for the table model: operation and column distributions per step of each
    picked question of a gallery (`augrnn.programmer.analysis.gallery`)."""
    b, out = g["batch"], g["out"]
    fig, axes = plt.subplots(
        len(picks), 2, figsize=(plots.WIDTH, 3 * len(picks)), gridspec_kw={"width_ratios": [3, 1.3]}
    )
    for row, i in enumerate(picks):
        names = [tables.NAMES[n] for n in b["names"][i]]
        steps = [f"step {t + 1}" for t in range(out["p_op"].shape[1])]
        plots.heatmap(
            out["p_op"][i],
            x_labels=tables.OPERATIONS,
            y_labels=steps,
            ax=axes[row, 0],
            vmax=1,
            title=textwrap.fill(tables.describe(b, i), 40),
            cbar=False,  # one colour bar, beside the columns' panel, serves both (the same 0-1 scale)
        )
        plots.heatmap(out["p_col"][i], x_labels=names, y_labels=steps, ax=axes[row, 1], vmax=1, title="columns")
        axes[row, 1].tick_params(axis="x", labelrotation=90)  # short names would otherwise run together
    fig.tight_layout()
    return fig


@torch.no_grad()
def paper_programs(model, cfg, kinds=("and", "or", "compare", "difference"), seed: int = 5):
    """The Distill figure for the paper's model (single column): the operation distribution at each
    step for one test-distribution question of each kind, titled with the question and the induced
    (hardmax) program. Returns the programs."""
    pick = {k: next(t for t in paper_questions.templates(1) if t.kind == k) for k in kinds}
    pairs = [(1, pick[k]) for k in kinds]
    g = torch.Generator().manual_seed(seed)
    b = paper_questions.build(pairs, paper_model.TEST_ROWS, paper_model.TEST_VALUE, 1, g, cfg.interacting)
    soft, hard = model(b), model(b, hard=True)
    fig, axes = plt.subplots(len(kinds), 1, figsize=(plots.WIDTH, 2.2 * len(kinds) + 0.6), sharex=True, squeeze=False)
    programs = {}
    for i, ax in enumerate(axes[:, 0]):
        numbers = iter(f"{x:.2f}" for x in b["numbers"][i].tolist())
        question = " ".join(next(numbers) if w == "<num>" else w for w in pairs[i][1].words)
        programs[question] = [paper_ops.OPS[j] for j in hard["p_op"][i].argmax(-1).tolist()]
        steps = [f"step {t + 1}" for t in range(soft["p_op"].shape[1])]
        title = textwrap.fill(f"{question}  ->  {' ; '.join(programs[question])}", 52)
        plots.heatmap(soft["p_op"][i], x_labels=paper_ops.OPS, y_labels=steps, ax=ax, vmax=1, title=title)
    axes[-1, 0].tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    return programs


# --- ACT ------------------------------------------------------------------------------------------


@torch.no_grad()
def act_halting(model, probe: dict, n: int = 6):
    """The Distill diagram as data: halting values h and weights p per inner step for the first n
    inputs of `probe`; returns the steps N and remainders R."""
    _, _, info = model(probe["x"][:n])
    steps = [f"step {i + 1}" for i in range(info["h"].shape[-1])]
    names = [f"{int(k)} non-zero" for k in probe["nonzero"][:n]]
    fig, axes = plt.subplots(2, 1, figsize=(plots.WIDTH, 6.4))
    plots.heatmap(info["h"], x_labels=steps, y_labels=names, ax=axes[0], title="halting values h", annotate=True)
    plots.heatmap(
        info["p"], x_labels=steps, y_labels=names, ax=axes[1], title="weights p (sum to 1)", annotate=True, vmax=1
    )
    fig.tight_layout()
    return {"N": info["steps"].int().tolist(), "R": [round(float(r), 3) for r in info["remainder"]]}


def act_tradeoff(final_parity):
    """Error against ponder cost, one point per trained network, coloured by tau."""
    act_rows = final_parity[final_parity["tau"] != "none"].astype({"tau": float})
    none = final_parity[final_parity["tau"] == "none"]
    fig, ax = plt.subplots(figsize=(plots.WIDTH, 3.6))
    for tau, group in act_rows.groupby("tau"):
        ax.scatter(group["test_ponder"], group["test_error"], label=f"tau={tau:g}")
    ax.scatter(none["test_ponder"], none["test_error"], marker="x", color="black", label="no ACT")
    ax.set_xlabel("mean ponder cost")
    ax.set_ylabel("held-out error")
    ax.legend(frameon=False, ncol=2)
    return fig


def act_by_difficulty(rows: pd.DataFrame):
    """Held-out error and mean ponder cost against the number of non-zero inputs (the paper's fig. 6),
    from `augrnn.act.summary.by_difficulty`: one line per model, the mean over seeds, a band for the range."""
    fig, axes = plt.subplots(1, 2, figsize=(plots.WIDTH, 2.8), sharex=True)
    for ax, column, name in zip(axes, ("error", "ponder"), ("held-out error", "mean ponder cost")):
        for model, group in rows.groupby("model", sort=False):
            by_count = group.groupby("non-zero inputs")[column]
            line = ax.plot(by_count.mean(), label=model)[0]
            ax.fill_between(by_count.min().index, by_count.min(), by_count.max(), color=line.get_color(), alpha=0.2)
        ax.set_xlabel("non-zero inputs")
        ax.set_ylabel(name)
    # The error curves fill the left panel; the ponder panel has room between its lines.
    axes[1].legend(frameon=False, loc="lower right", bbox_to_anchor=(1, 0.12))
    fig.tight_layout()
    return fig
