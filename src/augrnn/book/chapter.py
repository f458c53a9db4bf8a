"""What a chapter notebook calls: check its parameters, run (or reuse) its plan, gather the results."""

from __future__ import annotations

import os

import pandas as pd

from ..core.config import ConfigError, check_scale, check_seeds
from ..core.runs import run_plan
from ..core.train import Run


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


def train(plan, scale: str, retrain: bool = False) -> dict:
    """Every run of a chapter's plan (trained, or reused from data/results at full scale), by key."""
    return run_plan(plan, scale, retrain=retrain)


def metrics_table(runs: dict[str, Run]) -> pd.DataFrame:
    """All runs' metrics in one long table, with the run's label and seed as columns."""
    frames = []
    for label, r in runs.items():
        df = r.metrics.copy()
        df.insert(0, "run", label)
        df.insert(1, "seed", r.config.seed)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def mean_sd(values) -> str:
    """'mean ± sd (n=k)' for a headline number over seeds."""
    s = pd.Series(list(values), dtype=float)
    if len(s) == 1:
        return f"{s.iloc[0]:.3g} (n=1)"
    return f"{s.mean():.3g} ± {s.std(ddof=1):.2g} (n={len(s)})"
