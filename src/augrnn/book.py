"""What a chapter notebook calls: run (or reuse) its experiments at a scale, and gather the results.

Full-scale runs live in data/results/<chapter>/<name>/ and are committed with their provenance; a
chapter reuses one when its config fingerprint matches, unless `retrain` is set. Smoke runs train afresh
every time, under _build/runs/, so that they test the code rather than a cache.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd

from . import io
from .config import ConfigError, TrainConfig, check_scale
from .train import Run, fit, load_run


def check_parameters(scale, retrain=False, seeds=1, **paths) -> None:
    """The checks every chapter makes on its papermill parameters, before any work starts; `paths`
    are a chapter's optional data paths (a string, "" for none)."""
    check_scale(scale)
    for name, value in paths.items():
        if not isinstance(value, str):
            raise ConfigError(f"{name} = {value!r} is not allowed; give a path as a string, or \"\" for none")
        if value and not os.path.exists(value):
            raise ConfigError(f"{name} = {value!r}: no such file or folder; give an existing path, or \"\" for none")
    if not isinstance(retrain, bool):
        raise ConfigError(f"retrain = {retrain!r} is not allowed; choose one of True, False")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"seeds = {seeds!r} is out of range; allowed: a whole number >= 1")


def run_dir(chapter: str, name: str, scale: str) -> Path:
    root = io.repo_root()
    base = root / "data" / "results" if scale == "full" else root / "_build" / "runs"
    return base / chapter / name


def run(experiment, cfg: TrainConfig, *, chapter: str, name: str, scale: str,
        retrain: bool = False, progress: bool | None = None) -> Run:
    check_scale(scale)
    if progress is None:
        progress = os.environ.get("AUGRNN_PROGRESS", "1") != "0"
    where = run_dir(chapter, name, scale)
    if scale == "full" and not retrain:
        done = load_run(experiment, cfg, where)
        if done is not None:
            return done
    if scale == "smoke" or retrain:
        shutil.rmtree(where, ignore_errors=True)
    return fit(experiment, cfg, where, progress=progress)


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
