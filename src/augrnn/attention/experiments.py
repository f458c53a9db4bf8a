"""The attention chapter's runs: translation, speech and image strips, each with and without attention.

Every run is a headline run and gets `seeds` seeds. The Tatoeba runs are a separate plan, made only
where the pairs are found.
"""

from __future__ import annotations

from ..core.config import check_scale, check_seeds
from ..core.experiment import Planned
from .digit_strips import DigitStrips, StripConfig
from .speech import SpeechConfig, SpokenDigits
from .translation import Translation, TranslationConfig

CHAPTER = "attention"
SEEDS = 3
MODELS = {"attention": "additive", "no attention": "none"}
# Luong et al.'s score functions, each trained as the translation model with attention (whose
# score is additive) is: keys ("scores", kind, seed).
SCORE_KINDS = ("dot", "scaled_dot", "general")
# Show, Attend and Tell's other readers of the image strips, beside soft attention ("attention"):
# soft attention with the doubly stochastic penalty (lambda = 1), and hard attention by REINFORCE.
# Each: (short name for its folder, what it changes).
STRIP_READS = {
    "attention + coverage": ("coverage", dict(coverage=1.0)),
    "hard attention": ("hard", dict(model={"read": "hard"})),
}
# Speech: 600 updates for the LSTM listener (LAS's). The GRU listener this book used first, kept as a
# comparison at its 300 updates (speech_gru_steps), reached 1.0% digit error; the LSTM learns more
# slowly per update (2.5-10% at 300) but runs each 1.25-1.55x as fast on the CPU
# (benchmarks/train_step.py), so 600 take 1.3-1.6x the GRU's 300's time.
# fmt: off
BUDGETS = {
    "smoke": dict(pairs=400, test=40, clauses=2, steps=30, batch=16, hidden=32, embed=16, log=15,
                  strip_steps=40, speech_steps=8, speech_gru_steps=8, speech_hidden=16, speech_eval=16,
                  tatoeba_pairs=400, length_test=60, cost=dict(sources=(5, 10), tokens=4, batch=4, repeats=1)),
    "full": dict(pairs=20000, test=500, clauses=4, steps=1200, batch=32, hidden=128, embed=64, log=200,
                 strip_steps=2000, speech_steps=600, speech_gru_steps=300, speech_hidden=64, speech_eval=200,
                 tatoeba_pairs=50000, length_test=4000,
                 cost=dict(sources=(10, 25, 50, 100, 200), tokens=50, batch=32, repeats=5)),
}
# fmt: on


def budget(scale: str) -> dict:
    return BUDGETS[check_scale(scale)]


def translation_config(scale: str, kind: str, seed: int) -> TranslationConfig:
    b = budget(scale)
    return TranslationConfig(
        model={"attention": kind, "hidden": b["hidden"], "embed": b["embed"]},
        seed=seed,
        train_pairs=b["pairs"],
        test_pairs=b["test"],
        max_clauses=b["clauses"],
        steps=b["steps"],
        batch_size=b["batch"],
        lr=2e-3,
        log_every=b["log"],
        checkpoint_every=200,
    )


def plan(scale: str, seeds: int | None = None, fsdd: str | None = None) -> list[Planned]:
    """Keys (task, model, seed) with task "translation", "speech" or "strips" (model: "attention",
    "no attention", and for strips also the names in STRIP_READS), ("scores", kind, seed) for
    the other score functions on translation and ("speech-gru", model, seed) for speech with the GRU
    listener; `fsdd`: where the recordings are (else found as
    `augrnn.datasets.fsdd` says)."""
    seeds = check_seeds(seeds) or SEEDS
    runs = []
    for task in ("translation", "speech", "strips"):
        for name, kind in MODELS.items():
            for s in range(seeds):
                if task == "translation":
                    exp, cfg = Translation(), translation_config(scale, kind, s)
                elif task == "speech":
                    exp, cfg = SpokenDigits(fsdd), speech_config(scale, kind, s)
                else:
                    exp, cfg = DigitStrips(), strip_config(scale, s).replace(model={"attention": kind})
                runs.append(Planned(CHAPTER, f"{task}-{name.replace(' ', '_')}-seed{s}", (task, name, s), exp, cfg))
    for kind in SCORE_KINDS:
        for s in range(seeds):
            runs.append(Planned(CHAPTER, f"scores-{kind}-seed{s}", ("scores", kind, s), Translation(),
                                translation_config(scale, kind, s)))  # fmt: skip
    for name, (short, change) in STRIP_READS.items():
        for s in range(seeds):
            cfg = strip_config(scale, s).replace(**change)
            runs.append(Planned(CHAPTER, f"strips-{short}-seed{s}", ("strips", name, s), DigitStrips(), cfg))
    for name, kind in MODELS.items():  # the GRU listener, beside the LSTM one (key "speech-gru")
        for s in range(seeds):
            cfg = speech_config(scale, kind, s, cell="gru")
            runs.append(Planned(CHAPTER, f"speech_gru-{name.replace(' ', '_')}-seed{s}", ("speech-gru", name, s),
                                SpokenDigits(fsdd), cfg))  # fmt: skip
    return runs


def speech_config(scale: str, attention: str, seed: int, cell: str = "lstm") -> SpeechConfig:
    """The speech runs: the LSTM listener (LAS's) for speech_steps updates, evaluated every sixth of
    them; the GRU listener for speech_gru_steps, evaluated every third (as it was first trained)."""
    b = budget(scale)
    steps, evals = (b["speech_steps"], 6) if cell == "lstm" else (b["speech_gru_steps"], 3)
    return SpeechConfig(
        model={"attention": attention, "hidden": b["speech_hidden"], "cell": cell},
        seed=seed,
        steps=steps,
        batch_size=32,
        lr=3e-3,
        log_every=max(steps // evals, 1),
        eval_size=b["speech_eval"],
    )


def strip_config(scale: str, seed: int) -> StripConfig:
    steps = budget(scale)["strip_steps"]
    return StripConfig(seed=seed, steps=steps, batch_size=64, lr=3e-3, log_every=max(steps // 10, 1), eval_size=300)


def tatoeba_plan(scale: str, path, seeds: int | None = None) -> list[Planned]:
    """The translation runs again on the Tatoeba pairs at `path`; keys ("tatoeba", model, seed)."""
    b, seeds = budget(scale), check_seeds(seeds) or SEEDS
    return [
        Planned(
            CHAPTER,
            f"tatoeba-{name.replace(' ', '_')}-seed{s}",
            ("tatoeba", name, s),
            Translation(path),
            translation_config(scale, kind, s).replace(corpus="tatoeba", train_pairs=b["tatoeba_pairs"]),
        )
        for name, kind in MODELS.items()
        for s in range(seeds)
    ]
