"""What a chapter notebook calls: check its parameters, run (or reuse) its plan, gather the results."""

from __future__ import annotations

import os

import pandas as pd

from ..core import io
from ..core.config import ConfigError, check_scale, check_seeds
from ..core.runs import run_plan


def check_parameters(scale, retrain=False, seeds=None, **paths) -> None:
    """The checks every chapter makes on its papermill parameters, before any work starts; `paths`
    are a chapter's optional data paths (a string, "" for none)."""
    check_scale(scale)
    for name, value in paths.items():
        if not isinstance(value, str):
            raise ConfigError(f'{name} = {value!r} is not allowed; give a path as a string, or "" for none')
        if value and not os.path.exists(value):
            raise ConfigError(f'{name} = {value!r}: no such file or folder; give an existing path, or "" for none')
    if not isinstance(retrain, bool):
        raise ConfigError(f"retrain = {retrain!r} is not allowed; choose one of True, False")
    check_seeds(seeds)
    # The chapter's tables show whole cells: pandas would cut text (sources, settings) at 50 characters.
    pd.set_option("display.max_colwidth", None)
    _show_tables_with_readable_headers()


def readable(label):
    """A metric's name as a header: "test_error" -> "test error", "wall_time_s" -> "wall time (s)"."""
    if not isinstance(label, str):
        return label
    text = label.replace("_", " ")
    return text[:-2] + " (s)" if text.endswith(" s") else text


def _html(table: pd.DataFrame, whole: bool = False) -> str:
    """A table's HTML with readable column headers and axis names (the data are not touched); every
    row if `whole`, otherwise as pandas' display options cut it."""
    shown = table.rename(columns=readable)
    shown.columns.names = [readable(n) for n in shown.columns.names]
    shown.index.names = [readable(n) for n in shown.index.names]
    return shown.to_html() if whole else shown._repr_html_()


def _show_tables_with_readable_headers() -> None:
    """Every DataFrame a chapter displays is drawn by `_html` (an IPython formatter; none outside IPython)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, _html)


def train(plan, scale: str, retrain: bool = False) -> dict:
    """Every run of a chapter's plan (trained, or reused from data/results at full scale), by key."""
    return run_plan(plan, scale, retrain=retrain)


def metrics_table(runs) -> pd.DataFrame:
    """All runs' metrics in one long table, with the run's label and seed as columns.

    runs: (label, run) pairs, or a dict {label: run}. Pairs let several seeds share a label (a
    dict keyed by label would keep only the last seed of each)."""
    frames = []
    for label, r in runs.items() if isinstance(runs, dict) else runs:
        df = r.metrics.copy()
        df.insert(0, "run", label)
        df.insert(1, "seed", r.config.seed)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def mean_sd(values) -> str:
    """'mean ± sd (n=k)' for a headline number over seeds. Missing values (NaN: e.g. a threshold a
    seed never reached) are left out of the mean and counted: 'never (0 of 3)', '... (2 of 3)'."""
    all_ = pd.Series(list(values), dtype=float)
    s = all_.dropna()
    n = f"n={len(s)}" if len(s) == len(all_) else f"{len(s)} of {len(all_)}"
    if len(s) == 0:
        return f"never ({n})"
    if len(s) == 1:
        return f"{significant(s.iloc[0], 3)} ({n})"
    return f"{significant(s.mean(), 3)} ± {significant(s.std(ddof=1), 2)} ({n})"


def significant(x: float, digits: int) -> str:
    """`digits` significant digits, without scientific notation for numbers of 1 and more: 9,420 not
    9.42e+03, 260 not 2.6e+02 (small ones keep it: 1.2e-05)."""
    text = f"{x:.{digits}g}"
    if abs(x) < 1 or ("e" not in text and abs(x) < 1000):
        return text
    return f"{float(text):,.0f}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def timing_box(chapter: str):
    """The box at the top of a chapter: how long it takes to run, from stored provenance. Reusing:
    the last full-scale run of the notebook on stored results (data/results/timings.json);
    retraining: the sum of the stored runs' own training wall times, and the devices they ran on."""
    from IPython.display import Markdown

    root = io.repo_root() / "data" / "results"
    runs = [io.read_json(p) for p in sorted((root / chapter).glob("*/provenance.json"))]
    timings = io.read_json(root / "timings.json") if (root / "timings.json").exists() else {}
    reuse = timings.get(chapter, {}).get("reusing_results")
    parts = []
    if reuse:
        parts.append(f"reusing the stored results, {_duration(reuse['wall_time_s'])} on a CPU "
                     f"({reuse['threads']} threads)")  # fmt: skip
    if runs:
        devices = sorted({r["hardware"].get("device", "cpu") for r in runs})
        threads = sorted({r["hardware"].get("torch_threads") for r in runs} - {None})
        total = sum(r["wall_time_s"] for r in runs)
        parts.append(
            f"retraining all {len(runs)} runs at full scale, about {_duration(total)} "
            f"(the sum of their training times on {', '.join(d.upper() for d in devices)}, "
            f"{' or '.join(map(str, threads))} thread{'s' if threads != [1] else ''}, one run after another)"
        )
    gpu = "not measured yet" if all(r["hardware"].get("device", "cpu") == "cpu" for r in runs) else "see above"
    text = "; ".join(parts) or "no stored timings yet"
    return Markdown(f"> **Time to run this chapter.** Full scale: {text}. On a GPU: {gpu}. "
                    "At `scale = \"smoke\"` every experiment runs briefly, in a few minutes on a CPU.")  # fmt: skip


def collapsed(table: pd.DataFrame, summary: str):
    """A long table folded under a one-line summary (an HTML <details>, opened with a click)."""
    from html import escape

    from IPython.display import HTML

    return HTML(f"<details><summary>{escape(summary)}</summary>\n{_html(table, whole=True)}\n</details>")
