"""The Neural Programmer chapter's runs: the article's arithmetic programmer and the paper's model on
table questions (C = 3 columns and T = 4 steps; C = 5; T = 2 and 6).

Headline runs (arithmetic, and tables at C = 3, T = 4) get `seeds` seeds; C = 5 gets `sweep_seeds`,
and T = 2 and T = 6 one seed each.
"""

from __future__ import annotations

from ..core.config import check_scale, check_seeds
from ..core.experiment import Planned
from .arithmetic import Arithmetic, ArithmeticConfig
from .model import ProgrammerConfig, TableQA
from .paper_model import PaperTables, PaperTablesConfig

CHAPTER = "neural_programmer"
SEEDS = 3
# The paper's model and data (augrnn.programmer.paper_model): networks trained so far per number of columns.
PAPER_SEEDS = {1: 1}
# The same without gradient noise (the paper's fig. 8 compares the two): networks per number of columns.
PAPER_NO_NOISE_SEEDS = {1: 1}
# The same with our straight-through gradient to the pivots (paper_ops.compare; scale 10 on values in
# [-100, 100]): networks per number of columns. The controlled test of whether pivots are what fails.
PAPER_ST_SEEDS = {1: 1}
PIVOT_SCALE = 10.0
# The same again on logic questions whose two numbers are ordered so that both filters matter
# (questions.build, `interacting`), and the paper's model on those numbers alone: networks per number of
# columns.
PAPER_ST_INTERACTING_SEEDS = {1: 3, 3: 3}
PAPER_INTERACTING_SEEDS = {1: 1}
# The same as PAPER_ST_INTERACTING_SEEDS trained three times as long (`paper_long_steps`): the paper's fig. 8
# jumps after about 150 epochs of its 50,000 questions, 150,000 updates of 50, where our 50,000 stop.
PAPER_LONG_SEEDS = {3: 1}
# The same as PAPER_ST_INTERACTING_SEEDS at other points of the paper's grids, one setting changed at a time
# (paper_base has delta 10, lambda 50, clip 5): Huber delta {10, 25, 50}, lookup weight lambda {25, 50, 75,
# 100}, clipping norm {1, 5, 50}. {(config field, value): networks per number of columns}.
PAPER_GRID_SEEDS = {
    ("huber_delta", 50): {3: 1},
    ("huber_delta", 25): {3: 1},
    ("clip", 1): {3: 2},
    ("clip", 50): {3: 1},
    ("lookup_weight", 25): {3: 1},
    ("lookup_weight", 100): {3: 1},
    ("lookup_weight", 75): {3: 1},
    ("grad_noise", 0): {3: 1},  # not a grid: the control of whether the noise (added after clipping) limits
}
GRID_NAMES = {"huber_delta": "delta", "lookup_weight": "lambda", "clip": "clip", "grad_noise": "noise"}
# The arithmetic programmer with sampled discrete programs (arithmetic.sampled_loss), with and without
# the memory of verified programs: networks of each.
ARITH_SAMPLED_SEEDS = {"memory": 3, "no memory": 3}
# `compile`: the paper model's training forward runs as one compiled graph at full scale: 20-50 s of
# compilation once per run (seconds when the inductor cache has it), then about 1.45x the eager step
# on a CPU, which pays over its 50,000 updates. The stored runs before 2026-11-25 trained eagerly. (The
# smaller models' runs are too short to repay a compilation of their question GRU.)
# fmt: off
BUDGETS = {
    "smoke": dict(arith_steps=200, steps=150, log_every=50, eval_size=256, probe=256, sweep_seeds=1,
                  paper_steps=100, paper_log=50, paper_questions=500, paper_dev=100, paper_long_steps=200,
                  compile=False),
    "full": dict(arith_steps=4000, steps=6000, log_every=250, eval_size=2048, probe=4096, sweep_seeds=2,
                 paper_steps=50000, paper_log=1000, paper_questions=50000, paper_dev=1000,
                 paper_long_steps=150000, compile=True),
}
# fmt: on


def budget(scale: str) -> dict:
    return BUDGETS[check_scale(scale)]


def arithmetic_base(scale: str) -> ArithmeticConfig:
    b = budget(scale)
    return ArithmeticConfig(
        steps=b["arith_steps"], batch_size=64, lr=1e-3, log_every=b["log_every"], eval_size=1024, checkpoint_every=2000
    )


def tables_base(scale: str) -> ProgrammerConfig:
    b = budget(scale)
    return ProgrammerConfig(
        steps=b["steps"],
        batch_size=64,
        lr=1e-3,
        model={"hidden": 64, "embed": 64},
        grad_noise=0.01,
        log_every=b["log_every"],
        eval_size=b["eval_size"],
        checkpoint_every=1000,
    )


def paper_base(scale: str) -> PaperTablesConfig:
    """The paper's recipe (sec. 3.2.1): Adam at its default rate, batch 50, clipping at norm 5 (of {1, 5,
    50}), gradient noise of variance step^-0.55, Huber delta 10 and lambda 50 (of the grids {10, 25, 50}
    and {25, 50, 75, 100}), 50,000 fixed training questions."""
    b = budget(scale)
    return PaperTablesConfig(
        steps=b["paper_steps"],
        batch_size=50,
        lr=1e-3,
        clip=5.0,
        grad_noise=1.0,
        huber_delta=10.0,
        lookup_weight=50.0,
        train_questions=b["paper_questions"],
        dev_questions=b["paper_dev"],
        log_every=b["paper_log"],
        checkpoint_every=5000,
        compile=b["compile"],
    )


def plan(scale: str, seeds: int | None = None) -> list[Planned]:
    """Keys ("arithmetic", seed) and ("arithmetic-sampled" or "arithmetic-sampled-nomemory", seed),
    (f"C={columns}, T={steps}", seed), and ("paper", columns, seed) and
    ("paper-nonoise", columns, seed) for the paper's model and data with and without gradient noise."""
    b, seeds = budget(scale), check_seeds(seeds) or SEEDS
    arith, tab = arithmetic_base(scale), tables_base(scale)
    runs = [
        Planned(CHAPTER, f"arithmetic-seed{s}", ("arithmetic", s), Arithmetic(), arith.replace(seed=s))
        for s in range(seeds)
    ]
    for kind, n in ARITH_SAMPLED_SEEDS.items():
        name = "arithmetic-sampled" + ("" if kind == "memory" else "-nomemory")
        runs += [
            Planned(
                CHAPTER,
                f"{name}-seed{s}",
                (name, s),
                Arithmetic(),
                arith.replace(search="sampled", memory=kind == "memory", seed=s),
            )
            for s in range(min(seeds, n))
        ]

    def add(columns, steps_t, seed):
        cfg = tab.replace(columns=columns, model={"steps_t": steps_t}, seed=seed)
        runs.append(
            Planned(
                CHAPTER, f"tables-c{columns}-t{steps_t}-seed{seed}", (f"C={columns}, T={steps_t}", seed), TableQA(), cfg
            )
        )

    for s in range(seeds):
        add(3, 4, s)
    for s in range(b["sweep_seeds"]):
        add(5, 4, s)
    for steps_t in (2, 6):
        add(3, steps_t, 0)
    paper = paper_base(scale)
    ours = {"model": {"pivot_scale": PIVOT_SCALE}, "interacting": True}  # our two changes
    for kind, counts, change in (
        ("paper", PAPER_SEEDS, {}),
        ("paper-nonoise", PAPER_NO_NOISE_SEEDS, {"grad_noise": 0.0}),
        ("paper-st", PAPER_ST_SEEDS, {"model": {"pivot_scale": PIVOT_SCALE}}),
        ("paper-st-interacting", PAPER_ST_INTERACTING_SEEDS, ours),
        ("paper-interacting", PAPER_INTERACTING_SEEDS, {"interacting": True}),
        ("paper-st-interacting-long", PAPER_LONG_SEEDS, {**ours, "steps": b["paper_long_steps"]}),
        *(
            (f"paper-st-interacting-{GRID_NAMES[field]}{value:g}", counts, {**ours, field: float(value)})
            for (field, value), counts in PAPER_GRID_SEEDS.items()
        ),
    ):
        runs += [
            Planned(
                CHAPTER,
                f"{kind}-c{c}-seed{s}",
                (kind, c, s),
                PaperTables(),
                paper.replace(max_columns=c, seed=s, **change),
            )
            for c, n in counts.items()
            for s in range(min(seeds, n))
        ]
    return runs


def setup(scale: str) -> dict[str, str]:
    """Our side of the chapter's setup table, read from the plan's configs."""
    cfg = tables_base(scale)
    return {
        "operations": "the same, with `print` as the lookup answer (assign)",
        "steps T": f"{cfg.model.steps_t}; 2 and 6 in one run each",
        "table": f"values in [−100, 100] in training and test; {cfg.rows} rows, {cfg.columns} columns (5 in a second "
        f"set of runs)",
        "loss": f"Huber with δ = {cfg.huber_delta:g}; per-cell log loss weighted λ = {cfg.lookup_weight:g}",
        "training": f"{cfg.optimizer.capitalize()} lr {cfg.lr:g}, batch {cfg.batch_size}, "
        f"clipping at norm {cfg.clip:g}, noise of variance {cfg.grad_noise:g} / (1 + step)^0.55; "
        f"{cfg.steps:,} steps of fresh questions ({cfg.steps * cfg.batch_size:,})",
    }
