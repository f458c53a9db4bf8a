"""The ACT chapter's runs: parity at 8 bits over a grid of time penalties, and larger inputs.

Headline runs (no ACT, and ACT at each tau) get `seeds` seeds; the larger-input runs one seed each.
"""

from __future__ import annotations

from ..core.config import check_scale, check_seeds
from ..core.experiment import Planned
from .parity import Parity, ParityConfig

CHAPTER = "act"
SEEDS = 3
TAUS = (1e-4, 1e-3, 1e-2, 1e-1)
# fmt: off
BUDGETS = {
    "smoke": dict(bits=8, steps=300, log_every=50, eval_size=512, larger=[12], larger_steps=200),
    "full": dict(bits=8, steps=10000, log_every=250, eval_size=4096, larger=[16, 64], larger_steps=20000),
}
# fmt: on


def budget(scale: str) -> dict:
    return BUDGETS[check_scale(scale)]


def base(scale: str) -> ParityConfig:
    b = budget(scale)
    return ParityConfig(
        bits=b["bits"],
        steps=b["steps"],
        batch_size=128,
        lr=3e-3,
        log_every=b["log_every"],
        checkpoint_every=2000,
        eval_size=b["eval_size"],
    )


def plan(scale: str, seeds: int | None = None) -> list[Planned]:
    """Keys ("none", seed) for the RNN without ACT, (tau, seed) with it, ("bits", n) for larger inputs."""
    b, cfg, seeds = budget(scale), base(scale), check_seeds(seeds) or SEEDS
    runs = [
        Planned(CHAPTER, f"taunone-seed{s}", ("none", s), Parity(), cfg.replace(model={"act": "none"}, tau=0.0, seed=s))
        for s in range(seeds)
    ]
    runs += [
        Planned(CHAPTER, f"tau{tau}-seed{s}", (tau, s), Parity(), cfg.replace(tau=tau, seed=s))
        for tau in TAUS
        for s in range(seeds)
    ]
    runs += [
        Planned(
            CHAPTER,
            f"bits{n}-tau0.001-seed0",
            ("bits", n),
            Parity(),
            cfg.replace(bits=n, tau=1e-3, steps=b["larger_steps"]),
        )
        for n in b["larger"]
    ]
    return runs


def setup(scale: str) -> dict[str, str]:
    """Our side of the chapter's setup table, read from the plan's configs."""
    b, cfg = budget(scale), base(scale)
    m = cfg.model
    return {
        "input size": f"{cfg.bits} for the sweep; {', '.join(map(str, b['larger']))} in one run each",
        "network": f"the same: simple RNN, {m.hidden} tanh units, one sigmoid output; one step per sequence",
        "epsilon, step cap": f"ε = {m.eps:g}, M = {m.max_steps}, halting bias 1",
        "optimiser": f"{cfg.optimizer.capitalize()}, lr {cfg.lr:g}, gradient norm clipped at {cfg.clip:g}; one process",
        "batch size": str(cfg.batch_size),
        "training": f"{cfg.steps:,} steps ({cfg.steps * cfg.batch_size:,} sequences); larger inputs "
        f"{b['larger_steps']:,} steps",
        "sweep": f"τ in {{{', '.join(f'{t:g}' for t in TAUS)}}}, {SEEDS} networks per τ; and no ACT",
    }
