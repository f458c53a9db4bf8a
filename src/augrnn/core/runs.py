"""Stored runs: train a planned run, or reuse its stored result when the config matches.

Full-scale runs live in data/results/<chapter>/<name>/ and are committed with their provenance; a
run is reused when its config fingerprint matches, unless `retrain` is set. Smoke runs train afresh
every time, under _build/runs/, so that they test the code rather than a cache; only where the
environment sets AUGRNN_REUSE_SMOKE=1 are they reused too (`make nbval`, right after `make
chapters-smoke` has trained them with the same code; tests/book/test_same_seed.py checks that training
repeats its numbers).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from pathlib import Path

from . import io
from .config import ConfigError, check_scale
from .experiment import Planned
from .train import Run, fit, load_run


def run_dir(chapter: str, name: str, scale: str) -> Path:
    root = io.repo_root()
    base = root / "data" / "results" if scale == "full" else root / "_build" / "runs"
    return base / chapter / name


def run(planned: Planned, scale: str, *, retrain: bool = False, progress: bool | None = None) -> Run:
    """Train one planned run at `scale`, or reuse its stored full-scale result."""
    check_scale(scale)
    if progress is None:
        progress = os.environ.get("AUGRNN_PROGRESS", "1") != "0"
    where = run_dir(planned.chapter, planned.name, scale)
    reuse = scale == "full" or os.environ.get("AUGRNN_REUSE_SMOKE") == "1"
    if reuse and not retrain:
        done = load_run(planned.experiment, planned.config, where)
        if done is not None:
            return done
    if scale == "smoke" or retrain:
        shutil.rmtree(where, ignore_errors=True)
    return fit(planned.experiment, planned.config, where, progress=progress)


def select(plan: list[Planned], only: str | None = None, seed: int | None = None) -> list[Planned]:
    """The planned runs whose name matches the glob `only` and whose config has `seed`."""
    chosen = [
        p for p in plan if (only is None or fnmatch.fnmatch(p.name, only)) and (seed is None or p.config.seed == seed)
    ]
    if not chosen:
        names = ", ".join(p.name for p in plan)
        raise ConfigError(f"only = {only!r}, seed = {seed!r} match no planned run; the plan has: {names}")
    return chosen


def run_plan(plan: list[Planned], scale: str, *, retrain: bool = False, progress: bool | None = None) -> dict:
    """Every run of a plan, trained or reused, by key."""
    check_scale(scale)
    if not isinstance(retrain, bool):
        raise ConfigError(f"retrain = {retrain!r} is not allowed; choose one of True, False")
    return {p.key: run(p, scale, retrain=retrain, progress=progress) for p in plan}
