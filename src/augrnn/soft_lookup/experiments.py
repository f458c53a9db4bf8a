"""The soft-lookup chapter's runs: dot-product attention against uniform weights, `seeds` seeds each."""

from __future__ import annotations

from ..core.config import check_scale, check_seeds
from ..core.experiment import Planned
from .lookup import Lookup, LookupConfig

CHAPTER = "soft_lookup"
SEEDS = 3
BUDGETS = {"smoke": dict(steps=150), "full": dict(steps=1500)}


def budget(scale: str) -> dict:
    return BUDGETS[check_scale(scale)]


def base(scale: str) -> LookupConfig:
    steps = budget(scale)["steps"]
    return LookupConfig(steps=steps, batch_size=64, lr=3e-3, log_every=max(steps // 15, 1))


def plan(scale: str, seeds: int | None = None) -> list[Planned]:
    """Keys (attention, seed)."""
    cfg = base(scale)
    return [
        Planned(CHAPTER, f"{att}-seed{seed}", (att, seed), Lookup(), cfg.replace(model={"attention": att}, seed=seed))
        for att in ("dot", "uniform")
        for seed in range(check_seeds(seeds) or SEEDS)
    ]
