"""The NTM chapter's runs: budgets per scale and `plan(scale, seeds)`.

Headline runs (copy, NTM and LSTM) get `seeds` seeds; repeat copy and associative recall get
`other_seeds` (a budget choice, stated in the chapter).
"""

from __future__ import annotations

from ..core.config import check_scale, check_seeds
from ..core.experiment import Planned
from .model import NTMModelConfig
from .tasks import NTMConfig, NTMTask

CHAPTER = "ntm"
SEEDS = 3
# fmt: off
BUDGETS = {
    "smoke": dict(copy_steps=120, other_steps=60, batch=16, curriculum=60, max_len=5, log_every=20,
                  eval_size=16, lengths=[5, 10, 20], other_seeds=1, repeat=(3, 3), items=3, compile=False,
                  recipe_steps=60, recipe_log=20, small_batches=[4]),
    "full": dict(copy_steps=6000, other_steps=2000, batch=32, curriculum=1000, max_len=20, log_every=100,
                 eval_size=64, lengths=[10, 20, 30, 50, 120], other_seeds=1, repeat=(5, 5), items=6,
                 compile=True, recipe_steps=40000, recipe_log=500, small_batches=[1, 8]),
}
# fmt: on
MODELS = {"NTM": "ntm", "LSTM": "lstm"}


def budget(scale: str) -> dict:
    return BUDGETS[check_scale(scale)]


def config(scale: str, task: str, model: str, seed: int, controller: str = "lstm", **task_fields) -> NTMConfig:
    """The chapter's recipe: Adam 1e-3, batch 32, curriculum over lengths, a linear warm-down. At full
    scale the NTM's step is compiled (about 40 s once per run, then 2-3x faster on a CPU); smoke runs
    are too short to repay that."""
    b = budget(scale)
    return NTMConfig(
        task=task,
        model=NTMModelConfig(kind=MODELS[model], controller=controller),
        seed=seed,
        steps=b["copy_steps"] if task == "copy" else b["other_steps"],
        batch_size=b["batch"],
        lr=1e-3,
        warmdown=0.25,
        curriculum=b["curriculum"],
        log_every=b["log_every"],
        checkpoint_every=250,
        eval_size=b["eval_size"],
        compile=b["compile"],
        **task_fields,
    )


def pytorch_ntm_recipe(scale: str, seed: int) -> NTMConfig:
    """The training recipe of loudinthecloud/pytorch-ntm's copy task on our NTM: one sequence per
    update, RMSProp (lr 1e-4, momentum 0.9, alpha 0.95), every gradient component clipped to [-10, 10],
    the mean binary cross-entropy as the loss, lengths 1-20 from the start and a constant rate."""
    b = budget(scale)
    return NTMConfig(
        task="copy",
        seed=seed,
        steps=b["recipe_steps"],
        batch_size=1,
        optimizer="rmsprop",
        lr=1e-4,
        momentum=0.9,
        clip=10.0,
        clip_mode="value",
        loss="mean_bce",
        max_len=b["max_len"],
        log_every=b["recipe_log"],
        checkpoint_every=2000,
        eval_size=b["eval_size"],
        compile=b["compile"],
    )


def plan(scale: str, seeds: int | None = None) -> list[Planned]:
    """Every run of the chapter, keyed (task, model, seed); the copy NTM trained with pytorch-ntm's
    recipe is keyed ("copy", "NTM, pytorch-ntm recipe", seed), and with our recipe at a smaller batch
    (the one ingredient changed; the same number of updates) ("copy", "NTM, batch n", seed)."""
    b, seeds = budget(scale), check_seeds(seeds) or SEEDS
    runs = []

    def add(task, model, seed, **kw):
        runs.append(
            Planned(
                CHAPTER,
                f"{task}-{model.lower()}-seed{seed}",
                (task, model, seed),
                NTMTask(),
                config(scale, task, model, seed, **kw),
            )
        )

    for seed in range(seeds):
        for model in MODELS:
            add("copy", model, seed, max_len=b["max_len"])
    for seed in range(seeds):
        runs.append(
            Planned(
                CHAPTER,
                f"copy-ntm_pytorch_ntm_recipe-seed{seed}",
                ("copy", "NTM, pytorch-ntm recipe", seed),
                NTMTask(),
                pytorch_ntm_recipe(scale, seed),
            )
        )
    for n in b["small_batches"]:
        for seed in range(seeds):
            cfg = config(scale, "copy", "NTM", seed, max_len=b["max_len"]).replace(batch_size=n)
            runs.append(
                Planned(CHAPTER, f"copy-ntm_batch{n}-seed{seed}", ("copy", f"NTM, batch {n}", seed), NTMTask(), cfg)
            )
    for seed in range(b["other_seeds"]):
        for model in MODELS:
            add("repeat_copy", model, seed, max_len=b["repeat"][0], max_repeats=b["repeat"][1])
        add("associative_recall", "NTM", seed, controller="feedforward", bits=6, max_items=b["items"])
        add("associative_recall", "LSTM", seed, bits=6, max_items=b["items"])
    return runs


def setup(scale: str) -> dict[str, str]:
    """Our side of the chapter's setup table, read from the plan's configs."""
    by = {p.key[:2]: p.config for p in plan(scale, 1)}
    copy, rc, ar, lstm = (
        by["copy", "NTM"],
        by["repeat_copy", "NTM"],
        by["associative_recall", "NTM"],
        by["copy", "LSTM"],
    )
    heads = lambda c: (
        f"{c.task.replace('_', ' ')}: {c.model.controller} {c.model.hidden}, {c.model.read_heads} read"
        f" and {c.model.write_heads} write head"
    )
    seqs = lambda c: f"{c.steps} steps ({c.steps * c.batch_size:,} sequences)"
    return {
        "memory": f"{copy.model.locations} × {copy.model.width}",
        "NTM controller": "; ".join(heads(c) for c in (copy, rc, ar)),
        "LSTM baseline": f"{lstm.model.lstm_layers} layers × {lstm.model.lstm_hidden} (every task)",
        "optimiser": f"{copy.optimizer.capitalize()}, lr {copy.lr:g} for NTM and LSTM, falling linearly to 0 over the "
        f"last {copy.warmdown:.0%} of steps",
        "gradient clipping": f"gradient norm clipped at {copy.clip:g}",
        "batch size": f"{copy.batch_size}; copy also at "
        + " and ".join(str(n) for n in budget(scale)["small_batches"])
        + " with the rest of the recipe unchanged",
        "lengths": f"copy {copy.min_len}–{copy.max_len}; repeat copy length {rc.min_len}–{rc.max_len} and repeats "
        f"1–{rc.max_repeats} (to fit the budget); recall {ar.min_items}–{ar.max_items} items; drawn per "
        f"batch, the maximum growing over the first {copy.curriculum} steps",
        "memory initialisation": f"{copy.model.memory_init} 1e-6 (Collier & Beel: constant converges about 2x faster)",
        "training": f"copy {seqs(copy)}; repeat copy and recall {seqs(rc)}"
        + (
            "; a retrain compiles the NTM's time step (torch.compile; the stored runs of our recipe predate it)"
            if copy.compile
            else ""
        ),
    }
