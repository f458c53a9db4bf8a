"""Plot and table helpers shared by every chapter."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..core import io
from .chapter import metrics_table, significant

# Every figure is one column at most WIDTH inches wide. At 100 dpi that is at most about 560 px, and a
# phone's article column is 312 px (360 px screen): shrunk to it, the smallest text (12 pt tick labels,
# 12 x 100/72 = 16.7 px at natural size) still renders at 9 px or more (tests/book/test_browser.py).
WIDTH = 5.5
plt.rcParams.update(
    {
        "font.size": 13,
        "axes.titlesize": 13,
        "axes.labelsize": 13,
        "xtick.labelsize": 12,
        "ytick.labelsize": 12,
        "legend.fontsize": 12,
        "figure.titlesize": 14,
    }
)


def _short_number(value, _pos=None) -> str:
    """Axis ticks for counts: 0, 500, 20k, 1.5M (plain digits run together at these font sizes)."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"


def heatmap(
    weights,
    *,
    x_labels=None,
    y_labels=None,
    xlabel="",
    ylabel="",
    title="",
    ax=None,
    cmap="viridis",
    vmin=0.0,
    vmax=None,
    annotate=False,
    cbar=True,
):
    """An attention heatmap: rows are what attends (queries, output steps), columns what is attended."""
    w = np.asarray(weights.detach().cpu() if hasattr(weights, "detach") else weights, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(WIDTH, max(3, 0.35 * w.shape[1] + 1.5)), max(2, 0.35 * w.shape[0] + 1)))
    sns.heatmap(
        w,
        ax=ax,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        annot=annotate,
        fmt=".2f",
        xticklabels=x_labels if x_labels is not None else "auto",
        yticklabels=y_labels if y_labels is not None else "auto",
        cbar=cbar,
        cbar_kws={"label": "weight"} if cbar else None,
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def learning_curves(df: pd.DataFrame, *, x="examples", y="loss", hue="run", ax=None, logy=False, title="", ylabel=None):
    """Mean over seeds per `hue` group, with a band from the lowest to the highest seed."""
    if ax is None:
        _, ax = plt.subplots(figsize=(WIDTH, 3.5))
    for label, group in df.groupby(hue, sort=False):
        stats = group.groupby(x)[y].agg(["mean", "min", "max"])
        (line,) = ax.plot(stats.index, stats["mean"], label=f"{label}")
        ax.fill_between(stats.index, stats["min"], stats["max"], alpha=0.2, color=line.get_color())
    if logy:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(plt.MaxNLocator(6, integer=True))
    ax.xaxis.set_major_formatter(_short_number)
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel or y)
    ax.set_title(title)
    ax.legend(frameon=False)
    return ax


def curve_pair(named_runs, left=("test_error", "held-out error"), right=("test_ponder", "mean ponder cost")):
    """Two learning-curve panels, one above the other, for (label, run) pairs: metric `left` (top) and
    metric `right` (bottom), each given as (column, axis label); mean over seeds with the range as a
    band. One column 6 in wide, as every figure of the book, keeps 12 pt text legible on a phone."""
    curves = metrics_table(named_runs)
    fig, axes = plt.subplots(2, 1, figsize=(WIDTH, 6.5), sharex=True)
    for ax, (y, ylabel) in zip(axes, (left, right)):
        learning_curves(curves, y=y, ax=ax, ylabel=ylabel)
    axes[0].set_xlabel("")  # the shared axis is labelled once, below, and the lines named once, above
    if axes[1].get_legend() is not None:
        axes[1].get_legend().remove()
    fig.tight_layout()
    return fig


def summarise(values: pd.Series) -> dict:
    s = pd.Series(values, dtype=float)
    return {
        "mean": s.mean(),
        "sd": s.std(ddof=1) if len(s) > 1 else float("nan"),
        "min": s.min(),
        "max": s.max(),
        "n": len(s),
        "missing": int(s.isna().sum()),
    }


def compare_table(
    ours: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    on=("experiment", "metric"),
    digits=3,
    paper_rows=False,
    only_paper_rows=False,
) -> pd.DataFrame:
    """Paper beside ours.

    ours: one row per seed, with the `on` columns and `value`.
    reference: rows of data/reference/*.csv (`on` columns, value, source, certainty).
    Returns one row per `on` key: the paper's value and source, our mean ± sd over seeds, min-max, n.
    paper_rows: also keep the paper's rows we have no number for (a metric we do not measure
    gets a row of its own rather than sharing one with a different metric of ours).
    only_paper_rows: the paper's rows only (ours without a paper's row are left out).
    Where the reference has a `holds_if` column (the paper's claim as a test on our mean, e.g.
    "< 0.1"), the table adds the test and a verdict computed from our numbers (see `verdict`).
    """
    on = list(on)
    agg = ours.groupby(on, sort=False)["value"].apply(lambda v: pd.Series(summarise(v))).unstack()
    fmt = lambda x: "–" if pd.isna(x) else significant(x, digits)
    table = pd.DataFrame(
        {
            "ours (mean ± sd)": [
                f"never ({k:.0f} of {n:.0f})"
                if k == n
                else f"{fmt(m)} ± {fmt(s)}" + (f"; never in {k:.0f} of {n:.0f}" if k else "")
                for m, s, k, n in zip(agg["mean"], agg["sd"], agg["missing"], agg["n"])
            ],
            "ours (min–max)": [f"{fmt(a)}–{fmt(b)}" for a, b in zip(agg["min"], agg["max"])],
            "seeds": agg["n"].astype(int).values,
        },
        index=agg.index,
    )
    ref = reference.set_index(on)[["value", "source", "certainty"]] if len(reference) else None
    if ref is not None:
        ref = ref.rename(columns={"value": "paper"})
        how = "left" if only_paper_rows else "outer" if paper_rows else "right"
        table = ref.join(table, how=how, sort=False)
        table["paper"] = table["paper"].fillna("–")
        table["seeds"] = table["seeds"].fillna(0).astype(int)
        table = table.fillna("")
        columns = ["paper", "ours (mean ± sd)", "ours (min–max)", "seeds", "source", "certainty"]
        if "holds_if" in reference:
            tests = reference.set_index(on)["holds_if"].reindex(table.index)
            # A seed without a value never got there ("until" metrics): count it as infinitely far.
            means = agg["mean"].where(agg["missing"] == 0, float("inf")).reindex(table.index)
            table["claim holds if ours"] = tests.fillna("").values
            values = ours.groupby(on, sort=False)["value"].apply(list).reindex(table.index)
            passing = [
                sum(holds(t, v) for v in vs) if isinstance(vs, list) and isinstance(t, str) and t.strip() else None
                for t, vs in zip(tests, values)
            ]
            table["verdict"] = [verdict(*row) for row in zip(tests, means, table["seeds"], passing)]
            columns[4:4] = ["claim holds if ours", "verdict"]
        table = table[columns]
    return table


def holds(test: str, value) -> bool:
    """Whether `value` passes `test` (an operator and a number, e.g. "< 0.1", ">= 100", or several
    joined by "and" for a range, e.g. "> 0.1 and < 0.3"); a missing value (a seed that never got
    there) counts as inf, which fails "<"."""
    checks = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
    ok = True
    for part in test.split(" and "):
        op, _, number = part.strip().partition(" ")
        if op not in checks:
            raise ValueError(f"holds_if = {test!r}: write an operator ({', '.join(checks)}), a space and a number")
        ok &= checks[op](float("inf") if pd.isna(value) else float(value), float(number))
    return ok


def verdict(test, mean, seeds: int, passing: int | None = None) -> str:
    """Our mean against the paper's claim written as a test (see `holds`): "reproduced" or "not
    reproduced", with "(1 seed)" etc. under 3 seeds; "not run" without seeds; "–" without a test.
    `passing`, the seeds that pass the test one by one, is named where the mean and the seeds
    disagree: "not reproduced on the mean; holds in 4 of 5 seeds"."""
    if seeds == 0 or pd.isna(mean):
        return "not run"
    if not isinstance(test, str) or not test.strip():
        return "–"
    ok = holds(test, mean)
    text = "reproduced" if ok else "not reproduced"
    if passing is not None and passing != (seeds if ok else 0):
        return text + f" on the mean; holds in {passing} of {seeds} seeds"
    return text + (f" ({seeds} seed{'s' * (seeds > 1)})" if seeds < 3 else "")


def reference(name: str) -> pd.DataFrame:
    """Published numbers from data/reference/<name>.csv (each row names its paper, table or figure)."""
    path = io.repo_root() / "data" / "reference" / f"{name}.csv"
    return pd.read_csv(path, dtype={"value": str})


def sequence_panels(panels, *, title="", height=1.2, cmap="gray_r", xlabel="time step"):
    """Stacked images sharing one time axis: each panel is (label, array channels x time).

    Used for the NTM figures: inputs and outputs above the read and write weightings (locations x
    time), all aligned on the same time steps.
    """
    fig, axes = plt.subplots(len(panels), 1, figsize=(WIDTH, height * len(panels) + 0.6), sharex=True, squeeze=False)
    for ax, (label, arr) in zip(axes[:, 0], panels):
        a = np.asarray(arr.detach().cpu() if hasattr(arr, "detach") else arr, dtype=float)
        ax.imshow(a, aspect="auto", cmap=cmap, interpolation="nearest", vmin=0, vmax=max(1.0, a.max()))
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.set_yticks([])
    axes[-1, 0].set_xlabel(xlabel)
    axes[-1, 0].xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # whole time steps
    if title:
        fig.suptitle(textwrap.fill(title, 48))  # a long title would widen the figure past WIDTH
    fig.tight_layout()
    return fig


def visited_locations(*weightings, threshold: float = 0.02):
    """Crop weightings (each T x N) to the memory locations they use, keeping circular order.

    NTM heads may step backwards and wrap around (location 0, 127, 126, ...): the memory axis is
    rolled so the visited locations are contiguous, then cut to them. Returns the cropped weightings
    (same order) and the locations' labels.
    """
    n = weightings[0].shape[-1]
    start = int(np.argmax(np.asarray(weightings[0])[0]))  # where the first head starts
    rolled = [np.roll(np.asarray(w), n // 2 - start, axis=-1) for w in weightings]
    used = np.nonzero(np.max([r.max(0) for r in rolled], axis=0) > threshold)[0]
    lo, hi = int(used.min()), int(used.max()) + 1
    labels = [str((i - (n // 2 - start)) % n) for i in range(lo, hi)]
    return [r[:, lo:hi] for r in rolled], labels
