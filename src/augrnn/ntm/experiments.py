"""The NTM chapter's runs: budgets per scale and `plan(scale, seeds)`.

Headline runs (copy, NTM and LSTM) get `seeds` seeds; the other tasks get the seeds of `OTHER_SEEDS`
(a budget choice, stated in the chapter).
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
    "smoke": dict(copy_steps=120, repeat_steps=60, recall_steps=60, ngrams_steps=30, sort_steps=30, batch=16,
                  curriculum=60, max_len=5, log_every=20, eval_size=16, lengths=[5, 10, 20], repeat=(3, 3), items=3,
                  ngram_len=40, ngram_eval=16, compile=False, recipe_steps=60, recipe_log=20, small_batches=[4],
                  wide=16, recall_sizes=[2, 3, 4, 6], memory_seeds=1, recall_paper_steps=60, recall_paper_seeds=1,
                  sort_long_steps=45, copy_long_steps=180, ngrams_long_steps=50, sort_paper_steps=60,
                  sort_paper_seeds=1, ngrams_paper_steps=60),
    "full": dict(copy_steps=6000, repeat_steps=20000, recall_steps=8000, ngrams_steps=5000, sort_steps=8000,
                 batch=32, curriculum=1000, max_len=20, log_every=100, eval_size=64, lengths=[10, 20, 30, 50, 120],
                 repeat=(10, 10), items=6, ngram_len=200, ngram_eval=1000, compile=True, recipe_steps=40000,
                 recipe_log=500, small_batches=[1, 8], wide=None, recall_sizes=[2, 3, 4, 5, 6, 8, 10, 12, 15, 20],
                 memory_seeds=5, recall_paper_steps=120000, recall_paper_seeds=3,
                 sort_long_steps=12000, copy_long_steps=32000, ngrams_long_steps=8000, sort_paper_steps=100000,
                 sort_paper_seeds=1, ngrams_paper_steps=25000),
}
# fmt: on
MODELS = {"NTM": "ntm", "LSTM": "lstm"}
# Recall is the one task where the paper compares the NTM's two controllers (fig. 10): the feedforward
# NTM above ("NTM") and the LSTM-controlled one of table 2, 100 units and one head of each kind.
LSTM_CONTROLLER = "NTM, LSTM controller"
# The recall and priority-sort NTMs trained as the paper's sec. 4.6 says (RMSProp at the task's rate of
# its tables 1-3, momentum 0.9, every gradient component clipped to 10) on one episode per update (batch
# size is not stated; pytorch-ntm's choice), with no curriculum and a constant rate: recall for the
# paper's "approximately 30,000 episodes" and more, priority sort for what about an hour on one CPU
# thread trains.
PAPER_OPTIMISER = "NTM, paper's optimiser"
# task -> (the paper's rate for its NTM, the budget keys of the updates and of the seeds)
PAPER_OPTIMISER_RUNS = {
    "associative_recall": (1e-4, "recall_paper_steps", "recall_paper_seeds"),
    "priority_sort": (3e-5, "sort_paper_steps", "sort_paper_seeds"),
}
# The paper's whole protocol (sec. 4) on N-grams, where ours did not reproduce its NTM's advantage:
# that optimisation at the rates of its table 1 (NTM 3e-5, LSTM 1e-4) for the NTM with its learned
# memory ("bias values") and for its LSTM, the same number of sequences each, so the chapter's tables
# pair them. Task -> (the rates (NTM, LSTM), the budget key of the updates, the seeds at full scale;
# one at smoke).
PAPER_PROTOCOL_RUNS = {"ngrams": ((3e-5, 1e-4), "ngrams_paper_steps", (0,))}
# The controlled comparison behind priority sort and N-grams: the paper trains both tasks' NTMs at 0.3
# of its copy NTM's rate (3e-5 against 1e-4, table 1); these get our copy rate scaled alike (Adam 3e-4),
# the one change from their headline runs. Task -> seeds at full scale (one at smoke).
LOWER_LR_TEXT = "3e-4"  # as the label and run names write it
LOWER_LR = float(LOWER_LR_TEXT)
LOWER_RATE = f"NTM, rate {LOWER_LR_TEXT}"
LOWER_RATE_SEEDS = {"priority_sort": 1, "ngrams": 1}
# Headline runs trained again with more updates, the rest of the recipe unchanged: (task, model) ->
# (the budget key of their updates, seeds at full scale; one at smoke). Priority sort's get 1.5 times
# the updates (the NTM's cost was still falling at the end of `sort_steps`); the copy LSTM the
# sequences of the paper's fig. 3 (about a million): at `copy_steps` it is still learning copies
# inside its training range (the paper's LSTM copies up to length 20 almost perfectly, fig. 5).
# N-grams' get 1.6 times the updates (every cost was still falling at `ngrams_steps`): one seed each, a
# probe (with fewer seeds than the headline runs it stands in for none).
LONGER = {
    ("priority_sort", "NTM"): ("sort_long_steps", 3),
    ("priority_sort", "LSTM"): ("sort_long_steps", 3),
    ("copy", "LSTM"): ("copy_long_steps", 3),
    ("ngrams", "NTM"): ("ngrams_long_steps", 1),
    ("ngrams", "LSTM"): ("ngrams_long_steps", 1),
}
TASKS = ("copy", "repeat_copy", "associative_recall", "ngrams", "priority_sort")
# Collier & Beel's three ways to fill the memory at the start of an episode, compared on copy with our
# recipe; constant (the default) is the headline copy NTM, which gets the comparison's seeds.
MEMORY_INITS = ("constant", "learned", "random")
# The controlled comparison behind priority sort: the paper resets the memory to "bias values" (sec. 4),
# which we read as a learned initial memory; with a constant one every location looks alike to a
# content-addressed head until it is written, so a head cannot place a vector by its priority through
# its key. Task -> the seeds of its headline NTM trained again with a learned memory, the one change
# (at smoke one run, seed 0): every seed of priority sort and N-grams (the paper's memory, so these
# stand in for their NTMs), and repeat copy's third, the one of five that never learnt it, as a probe.
LEARNED_MEMORY_SEEDS = {"priority_sort": (0, 1, 2), "ngrams": (0, 1, 2, 3), "repeat_copy": (2,)}
# The controlled comparison behind the learned-memory N-gram NTMs' sudden rises of cost: the paper's
# lower rate scaled to ours (LOWER_LR) with the learned memory, the one change from those runs. Task ->
# seeds at full scale (at smoke one run, seed 0): all four of N-grams'.
LEARNED_LOWER_RATE_SEEDS = {"ngrams": (0, 1, 2, 3)}
# The learned-memory sort NTMs' cost was still falling at the end of their budget: seeds trained again
# with the updates of LONGER's runs of the task's NTM, the one change. Task -> seeds at full scale (at
# smoke one run, seed 0).
LEARNED_LONGER_SEEDS = {"priority_sort": (0, 1, 2)}
# The controlled comparison behind repeat copy's failing seed (the third of five): is it its starting
# weights or its batches? Its weights trained on the batches of the first seed, which learns the task,
# and the first seed's weights on its batches, nothing else changed (`data_seed`). Task -> (weights'
# seed, batches' seed) pairs at full scale; at smoke one, seed 0's weights on seed 1's batches.
BATCH_SWAPS = {"repeat_copy": ((2, 0), (0, 2))}


def swaps(task: str, scale: str) -> tuple[tuple[int, int], ...]:
    """BATCH_SWAPS's (weights' seed, batches' seed) pairs of `task` at `scale`."""
    return BATCH_SWAPS.get(task, ()) if scale == "full" else ((0, 1),) * (task in BATCH_SWAPS)


def batches_label(seed: int) -> str:
    """The plan's model label of an NTM trained on the batches of seed `seed` (BATCH_SWAPS)."""
    return f"NTM, batches of seed {seed}"


def swap_keys(task: str, scale: str) -> list[tuple]:
    """The runs of `task`'s BATCH_SWAPS comparison: for each seed involved its headline NTM, its NTM with a
    learned memory where planned, and its weights on the other seed's batches."""
    seeds = sorted({s for pair in swaps(task, scale) for s in pair})
    labels = ["NTM", LEARNED_MEMORY] + [batches_label(b) for _, b in swaps(task, scale)]
    planned = {p.key for p in plan(scale)}
    return [(task, m, s) for s in seeds for m in labels if (task, m, s) in planned]


def recipe_labels(scale: str) -> list[str]:
    """The plan's model labels of the copy NTM's recipe comparison, ours first."""
    return ["NTM", "NTM, pytorch-ntm recipe"] + [f"NTM, batch {n}" for n in budget(scale)["small_batches"]]


def long_label(task: str, model: str, scale: str) -> str:
    """The plan's model label of the longer runs (LONGER) of `model` on `task`."""
    return f"{model}, {budget(scale)[LONGER[task, model][0]]:,} updates"


def budget_labels(task: str, scale: str) -> list[str]:
    """The plan's model labels of a budget comparison on `task`: its headline NTM and LSTM and their
    longer runs (LONGER)."""
    return ["NTM", "LSTM"] + [long_label(t, model, scale) for t, model in LONGER if t == task]


def learned_labels(task: str, scale: str) -> list[str]:
    """The plan's model labels of `task`'s learned-memory comparison: its headline NTM, its NTMs with a
    learned memory (at the lower rate, trained longer, and with the paper's protocol, where planned), its
    LSTM and, beside the longer NTM or the paper's protocol, the LSTM trained alike."""
    longer = task in LEARNED_LONGER_SEEDS
    ntms = [LEARNED_LOWER_RATE] if task in LEARNED_LOWER_RATE_SEEDS else []
    ntms += [learned_long_label(task, scale)] if longer else []
    lstms = [long_label(task, "LSTM", scale)] if longer else []
    if task in PAPER_PROTOCOL_RUNS:
        ntms, lstms = ntms + [LEARNED_PAPER_OPTIMISER], lstms + [LSTM_PAPER_OPTIMISER]
    return ["NTM", LEARNED_MEMORY] + ntms + ["LSTM"] + lstms


def stand_ins(scale: str) -> dict[tuple[str, str], str]:
    """The runs that stand for the paper's models in the chapter's claims table, where we trained them at
    a budget nearer the paper's: {(task, plan label): the headline label they replace}. Only longer runs
    with as many seeds at full scale as the runs they would replace stand in, at either scale. A task's
    NTM with a learned initial memory (LEARNED_MEMORY_SEEDS, the paper's "bias values"), where it has
    those seeds, stands in for its NTM instead; that task's longer runs then stand in for nothing, so
    its NTM is scored against the LSTM of its own budget."""
    ins = {
        (task, long_label(task, model, scale)): model
        for (task, model), (_, n) in LONGER.items()
        if n >= OTHER_SEEDS.get((task, model), SEEDS)
    }
    for task, seeds in LEARNED_MEMORY_SEEDS.items():
        if len(seeds) >= OTHER_SEEDS.get((task, "NTM"), SEEDS):
            ins = {k: model for k, model in ins.items() if k[0] != task} | {(task, LEARNED_MEMORY): "NTM"}
    return ins


def scored(task: str, model: str, scale: str) -> str:
    """The plan label of the runs that the claims table scores as the paper's `model` on `task`."""
    return next((label for (t, label), m in stand_ins(scale).items() if (t, m) == (task, model)), model)


def variant_labels(scale: str) -> list[str]:
    """The plan's model labels of the runs that are not a task's headline NTM or LSTM (they have
    sections of their own in the chapter)."""
    return (
        recipe_labels(scale)[1:]
        + MEMORY_LABELS[1:]
        + [PAPER_OPTIMISER, LOWER_RATE, LEARNED_LOWER_RATE, LEARNED_PAPER_OPTIMISER, LSTM_PAPER_OPTIMISER]
        + [learned_long_label(task, scale) for task in LEARNED_LONGER_SEEDS]
        + [long_label(task, model, scale) for task, model in LONGER]
        + [batches_label(b) for task in BATCH_SWAPS for _, b in swaps(task, scale)]
    )


def memory_label(init: str) -> str:
    """The plan's model label of an NTM with memory initialisation `init` (copy's comparison, and the
    learned memory of LEARNED_MEMORY_SEEDS)."""
    return "NTM" if init == "constant" else f"NTM, memory {init}"


MEMORY_LABELS = [memory_label(init) for init in MEMORY_INITS]  # constant's first
LEARNED_MEMORY = memory_label("learned")
LEARNED_LOWER_RATE = f"{LEARNED_MEMORY}, rate {LOWER_LR_TEXT}"
LEARNED_PAPER_OPTIMISER = f"{LEARNED_MEMORY}, paper's optimiser"
LSTM_PAPER_OPTIMISER = "LSTM, paper's optimiser"


def learned_long_label(task: str, scale: str) -> str:
    """The plan's model label of `task`'s learned-memory NTM trained longer (LEARNED_LONGER_SEEDS)."""
    return f"{LEARNED_MEMORY}, {budget(scale)[LONGER[task, 'NTM'][0]]:,} updates"


# Seeds of the other tasks per model at full scale (smoke runs one each): three is the target; each
# run is stored, so later sessions add seeds without retraining these.
OTHER_SEEDS = {
    ("repeat_copy", "NTM"): 5,  # 5: how often a seed learns it (2 of the first 3 did)
    # The paper's 3 x 512 LSTM has 5.3M weights (a 20 MB model file, more than a stored run may take):
    # its runs keep their evaluations instead (NO_WEIGHTS).
    ("repeat_copy", "LSTM"): 3,
    ("associative_recall", "NTM"): 3,
    ("associative_recall", "LSTM"): 3,
    ("associative_recall", LSTM_CONTROLLER): 3,
    ("ngrams", "NTM"): 4,  # 4: the NTM's seeds end 1.5 to 18.6 bits above the optimum (the first 3)
    ("ngrams", "LSTM"): 4,
    ("priority_sort", "NTM"): 3,
    ("priority_sort", "LSTM"): 3,
}
# The networks of the paper's tables 1-3 where they differ from NTMModelConfig's defaults (an LSTM
# controller of 100, one read and one write head; an LSTM baseline of 3 x 256). "4 heads" of the
# recall NTM we read as 4 read and 4 write heads, as the paper's priority sort speaks of "8 parallel
# read and write heads".
NETWORKS = {
    ("repeat_copy", "LSTM"): dict(lstm_hidden=512),
    ("associative_recall", "NTM"): dict(controller="feedforward", hidden=256, read_heads=4, write_heads=4),
    ("ngrams", "LSTM"): dict(lstm_hidden=128),
    ("priority_sort", "NTM"): dict(controller="feedforward", hidden=512, read_heads=8, write_heads=8),
    ("priority_sort", "LSTM"): dict(lstm_hidden=128),
}


# Networks whose runs keep what the chapter measures on them instead of their weights (too big for the
# repository): NTMTask.evaluations, cfg.keep_weights = False.
NO_WEIGHTS = {("repeat_copy", "LSTM")}


def budget(scale: str) -> dict:
    return BUDGETS[check_scale(scale)]


def config(scale: str, task: str, model: str, seed: int, **task_fields) -> NTMConfig:
    """The chapter's recipe: Adam 1e-3, batch 32, curriculum over lengths, a linear warm-down. At full
    scale the NTM's step is compiled (about 40 s once per run, then 2-3x faster on a CPU); smoke runs
    are too short to repay that."""
    b = budget(scale)
    network = NETWORKS.get((task, model), {})
    if b["wide"]:  # smoke runs shrink the paper's wide networks
        network = {k: min(v, b["wide"]) if k.endswith("hidden") else v for k, v in network.items()}
    steps = {
        "copy": b["copy_steps"],
        "repeat_copy": b["repeat_steps"],
        "associative_recall": b["recall_steps"],
        "ngrams": b["ngrams_steps"],
        "priority_sort": b["sort_steps"],
    }
    fields = dict(
        task=task,
        model=NTMModelConfig(kind=MODELS.get(model, "ntm"), **network),
        seed=seed,
        steps=steps[task],
        batch_size=b["batch"],
        lr=1e-3,
        # The rate falls to 0 over the last quarter of copy's updates, over the last half on the other
        # tasks: a repeat-copy NTM with the quarter collapsed from 0.04 to 189 bits at update 14,400.
        warmdown=0.25 if task == "copy" else 0.5,
        curriculum=b["curriculum"],
        log_every=b["log_every"],
        checkpoint_every=250,
        eval_size=b["eval_size"],
        compile=b["compile"],
        keep_weights=(task, model) not in NO_WEIGHTS,
    )
    return NTMConfig(**fields | task_fields)


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


def paper_optimisation(scale: str, lr: float, steps: str) -> dict:
    """The NTMConfig fields of the paper's optimisation (sec. 4.6) at rate `lr` for the updates of budget
    key `steps`: RMSProp with momentum 0.9, every gradient component clipped to 10, one sequence per
    update, a constant rate and no curriculum."""
    b = budget(scale)
    return dict(
        steps=b[steps],
        batch_size=1,
        optimizer="rmsprop",
        lr=lr,
        clip=10.0,
        clip_mode="value",
        curriculum=0,
        warmdown=0.0,
        log_every=b["recipe_log"],
        checkpoint_every=2000,
    )


def task_fields(scale: str, task: str) -> dict:
    """The paper's data settings of a task (secs. 4.1-4.5), as NTMConfig fields."""
    b = budget(scale)
    return {
        "copy": dict(max_len=b["max_len"]),
        "repeat_copy": dict(max_len=b["repeat"][0], max_repeats=b["repeat"][1], repeat_channel="normalised"),
        "associative_recall": dict(bits=6, max_items=b["items"]),
        "ngrams": dict(ngram_len=b["ngram_len"], eval_size=b["ngram_eval"]),
        "priority_sort": {},
    }[task]


def plan(scale: str, seeds: int | None = None) -> list[Planned]:
    """Every run of the chapter, keyed (task, model, seed); the copy NTM trained with pytorch-ntm's
    recipe is keyed ("copy", "NTM, pytorch-ntm recipe", seed), with our recipe at a smaller batch
    (the one ingredient changed; the same number of updates) ("copy", "NTM, batch n", seed), and with
    another memory initialisation ("copy", memory_label(init), seed)."""
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
            add("copy", model, seed, **task_fields(scale, "copy"))
    for init in MEMORY_INITS:  # Collier & Beel's comparison: the same recipe, one change
        for seed in range(seeds if init == "constant" else 0, b["memory_seeds"]):
            cfg = config(scale, "copy", "NTM", seed, **task_fields(scale, "copy"))
            cfg = cfg.replace(model=cfg.model.replace(memory_init=init))
            name = f"copy-ntm-seed{seed}" if init == "constant" else f"copy-ntm_memory_{init}-seed{seed}"
            runs.append(Planned(CHAPTER, name, ("copy", memory_label(init), seed), NTMTask(), cfg))
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
    for (task, model), n in OTHER_SEEDS.items():
        for seed in range(n if scale == "full" else 1):
            if model == LSTM_CONTROLLER:
                cfg = config(scale, task, model, seed, **task_fields(scale, task))
                name = f"{task}-ntm_lstm_controller-seed{seed}"
                runs.append(Planned(CHAPTER, name, (task, model, seed), NTMTask(), cfg))
            else:
                add(task, model, seed, **task_fields(scale, task))
    for task, (lr, steps, n) in PAPER_OPTIMISER_RUNS.items():
        ours = config(scale, task, "NTM", 0, **task_fields(scale, task))
        for seed in range(b[n]):
            cfg = ours.replace(seed=seed, **paper_optimisation(scale, lr, steps))
            runs.append(
                Planned(
                    CHAPTER, f"{task}-ntm_paper_optimiser-seed{seed}", (task, PAPER_OPTIMISER, seed), NTMTask(), cfg
                )
            )
    # The learned-memory NTMs: (task -> seeds, label, what else changes from the headline NTM, the run
    # name's suffix); the longer and the paper-protocol runs' changes depend on their task: a row per task.
    learned = (
        [
            (LEARNED_MEMORY_SEEDS, LEARNED_MEMORY, {}, ""),
            (LEARNED_LOWER_RATE_SEEDS, LEARNED_LOWER_RATE, {"lr": LOWER_LR}, f"_rate{LOWER_LR_TEXT}"),
        ]
        + [
            ({task: chosen}, learned_long_label(task, scale), {"steps": b[LONGER[task, "NTM"][0]]}, "_long")
            for task, chosen in LEARNED_LONGER_SEEDS.items()
        ]
        + [
            ({task: chosen}, LEARNED_PAPER_OPTIMISER, paper_optimisation(scale, ntm, steps), "_paper_optimiser")
            for task, ((ntm, _), steps, chosen) in PAPER_PROTOCOL_RUNS.items()
        ]
    )
    for seeds_of, label, change, suffix in learned:
        for task, chosen in seeds_of.items():
            for seed in chosen if scale == "full" else (0,):
                cfg = config(scale, task, "NTM", seed, **task_fields(scale, task)).replace(**change)
                cfg = cfg.replace(model=cfg.model.replace(memory_init="learned"))
                name = f"{task}-ntm_memory_learned{suffix}-seed{seed}"
                runs.append(Planned(CHAPTER, name, (task, label, seed), NTMTask(), cfg))
    for task, ((_, lr), steps, chosen) in PAPER_PROTOCOL_RUNS.items():
        for seed in chosen if scale == "full" else (0,):
            cfg = config(scale, task, "LSTM", seed, **task_fields(scale, task)).replace(
                **paper_optimisation(scale, lr, steps)
            )
            name = f"{task}-lstm_paper_optimiser-seed{seed}"
            runs.append(Planned(CHAPTER, name, (task, LSTM_PAPER_OPTIMISER, seed), NTMTask(), cfg))
    for task in BATCH_SWAPS:
        for weights, batches in swaps(task, scale):
            cfg = config(scale, task, "NTM", weights, **task_fields(scale, task)).replace(data_seed=batches)
            name = f"{task}-ntm_batches{batches}-seed{weights}"
            runs.append(Planned(CHAPTER, name, (task, batches_label(batches), weights), NTMTask(), cfg))
    for task, n in LOWER_RATE_SEEDS.items():
        for seed in range(n if scale == "full" else 1):
            cfg = config(scale, task, "NTM", seed, **task_fields(scale, task)).replace(lr=LOWER_LR)
            name = f"{task}-ntm_rate{LOWER_LR_TEXT}-seed{seed}"
            runs.append(Planned(CHAPTER, name, (task, LOWER_RATE, seed), NTMTask(), cfg))
    for (task, model), (steps, n) in LONGER.items():
        for seed in range(n if scale == "full" else 1):
            cfg = config(scale, task, model, seed, **task_fields(scale, task)).replace(steps=b[steps])
            key = (task, long_label(task, model, scale), seed)
            runs.append(Planned(CHAPTER, f"{task}-{model.lower()}_long-seed{seed}", key, NTMTask(), cfg))
    # The controlled comparison behind the longer fall of the rate: the first repeat-copy NTM seed
    # with copy's schedule (the rate falling over the last quarter only).
    cfg = config(scale, "repeat_copy", "NTM", 0, **task_fields(scale, "repeat_copy")).replace(warmdown=0.25)
    runs.append(
        Planned(
            CHAPTER,
            "repeat_copy-ntm_warmdown25-seed0",
            ("repeat_copy", "NTM, rate falling over 25%", 0),
            NTMTask(),
            cfg,
        )
    )
    return runs


def setup(scale: str) -> dict[str, str]:
    """Our side of the chapter's setup table, read from the plan's configs (one seed of each run kind)."""
    by = {(t, m): config(scale, t, m, 0, **task_fields(scale, t)) for t in TASKS for m in MODELS}
    count, planned = {}, plan(scale)
    for p in planned:
        count[p.key[:2]] = count.get(p.key[:2], 0) + 1
    lower = [p.config for p in planned if p.key[1] in (LOWER_RATE, LEARNED_LOWER_RATE)]
    learned = {t: [p.key[2] for p in planned if p.key[:2] == (t, LEARNED_MEMORY)] for t in LEARNED_MEMORY_SEEDS}
    tasks = TASKS
    name = lambda task: "N-grams" if task == "ngrams" else task.replace("_", " ")
    heads = lambda c: (
        f"{name(c.task)}: {c.model.controller} {c.model.hidden}, {c.model.read_heads} read"
        f" and {c.model.write_heads} write head{'s' * (c.model.write_heads > 1)}"
    )
    lstm = lambda c: f"{name(c.task)} {c.model.lstm_layers} × {c.model.lstm_hidden}"
    seqs = lambda c: f"{name(c.task)} {c.steps:,} steps ({c.steps * c.batch_size:,} sequences)"
    copy, rc, ar, ng, ps = (by[t, "NTM"] for t in tasks)
    seeds = lambda task: f"{name(task)} – " + "; ".join(f"{m}: {n}" for (t, m), n in count.items() if t == task)
    return {
        "memory": f"{copy.model.locations} × {copy.model.width}",
        "NTM controller": "; ".join(heads(by[t, "NTM"]) for t in tasks)
        + f"; recall also with an LSTM controller of {by['copy', 'NTM'].model.hidden} and one head of each kind",
        "LSTM baseline": "; ".join(lstm(by[t, "LSTM"]) for t in tasks),
        "optimiser": f"{copy.optimizer.capitalize()}, lr {copy.lr:g} for NTM and LSTM, falling linearly to 0 over the "
        f"last {copy.warmdown:.0%} of steps (copy) or the last {rc.warmdown:.0%} (the other tasks); also "
        f"{LOWER_LR:g} for the NTMs of "
        + " and ".join(
            f"{name(c.task)} seed {c.seed}" + " (learned memory)" * (c.model.memory_init == "learned") for c in lower
        )
        + "; the paper's RMSProp (momentum 0.9, components clipped to 10) on one sequence per update, constant lr "
        + " and ".join(f"{lr:g} for the {name(task)} NTM" for task, (lr, _, _) in PAPER_OPTIMISER_RUNS.items())
        + "".join(
            f"; the same for {name(task)} at the paper's rates, {ntm:g} for the NTM with a learned memory and {lstm:g} "
            f"for the LSTM, {budget(scale)[steps]:,} sequences each"
            for task, ((ntm, lstm), steps, _) in PAPER_PROTOCOL_RUNS.items()
        ),
        "gradient clipping": f"gradient norm clipped at {copy.clip:g}",
        "batch size": f"{copy.batch_size}; copy also at "
        + " and ".join(str(n) for n in budget(scale)["small_batches"])
        + " with the rest of the recipe unchanged",
        "lengths": f"copy {copy.min_len}–{copy.max_len}; repeat copy length {rc.min_len}–{rc.max_len} and repeats "
        f"1–{rc.max_repeats}, the count {rc.repeat_channel}; recall {ar.min_items}–{ar.max_items} items, drawn per "
        f"batch, the maximum length (items) growing over the first {copy.curriculum:,} steps; N-grams "
        f"{ng.ngram_len} bits (held out: {ng.eval_size} sequences); priority sort {ps.sort_items} vectors, the top "
        f"{ps.sort_keep} out",
        "memory initialisation": f"{copy.model.memory_init} 1e-6 (Collier & Beel: constant converges about 2x faster); "
        f"on copy also {' and '.join(MEMORY_INITS[1:])}, {budget(scale)['memory_seeds']} seeds each; "
        + "; ".join(
            f'on {name(t)} also learned (the paper\'s "bias values"), seed{"s" * (len(n) > 1)} {", ".join(map(str, n))}'
            for t, n in learned.items()
        ),
        "training": "; ".join(seqs(by[t, "NTM"]) for t in tasks)
        + " (the same for the LSTM)"
        + (
            "; a retrain compiles the NTM's time step (torch.compile; the stored copy runs of our recipe predate it)"
            if copy.compile
            else ""
        ),
        "seeds": ". ".join(seeds(t) for t in tasks),
    }
