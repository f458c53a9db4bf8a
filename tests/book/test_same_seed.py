"""Same seed, same config, same numbers: one short run of every kind of run the chapters plan, trained twice.

nbval re-executes the chapters on the smoke runs that `make test` has just trained (it checks that a
chapter computes the same tables from them); whether training itself repeats is checked here, for every
experiment, task and model variant of every chapter's smoke plan, with the plan's settings (at smoke
the NTM's step is not compiled: tests/ntm/test_compile.py compares compiled and eager), cut to a few
updates and small batches.
"""

import pytest

from augrnn.book.chapters import CHAPTERS
from augrnn.core.train import fit, numbers


def kinds(chapter):
    """The first smoke run of each (experiment, task, model variant) of a chapter's plan."""
    first = {}
    for p in CHAPTERS[chapter].plan("smoke", 1):
        model = p.config.model
        variant = (type(model).__name__, getattr(model, "controller", None), getattr(model, "act", None),
                   getattr(model, "read", None), getattr(model, "attention", None))  # fmt: skip
        first.setdefault((type(p.experiment).__name__, getattr(p.config, "task", None), variant), p)
    return list(first.values())


@pytest.mark.parametrize("planned", [p for c in CHAPTERS for p in kinds(c)], ids=lambda p: f"{p.chapter}/{p.name}")
def test_a_planned_run_repeats_its_numbers(planned):
    c = planned.config
    cfg = c.replace(steps=min(c.steps, 4), log_every=2, warmdown=0.0, batch_size=min(c.batch_size, 8))
    if hasattr(cfg, "eval_size"):
        cfg = cfg.replace(eval_size=min(cfg.eval_size, 16))
    a = fit(planned.experiment, cfg, None, progress=False).metrics
    b = fit(planned.experiment, cfg, None, progress=False).metrics
    assert len(a) == 2
    assert numbers(a).equals(numbers(b))
