from types import SimpleNamespace

import pandas as pd

from augrnn.act import experiments
from augrnn.act.summary import PARITY64, ours_for_the_paper
from augrnn.book.plots import reference


def fake(error, ponder):
    metrics = pd.DataFrame({"step": [100, 200], "test_error": [0.5, error], "test_ponder": [1.0, ponder]})
    return SimpleNamespace(metrics=metrics, config=SimpleNamespace(batch_size=128))


def test_every_full_scale_run_meets_its_row_of_the_paper():
    """The rows the chapter compares are named as data/reference/act.csv names them, so none is
    silently left without the paper's value."""
    keys = [p.key for p in experiments.plan("full")]
    kinds = ("bits", "logic", "long", "logic-long", *PARITY64)
    sweep = {k: fake(0.0, 3.0) for k in keys if k[0] not in kinds}
    sizes = {k[1:]: fake(0.5, 3.0) for k in keys if k[0] == "bits"}
    logic = {k[1:]: fake(0.1, 2.0) for k in keys if k[0] == "logic"}
    long = {k[1:]: fake(0.0, 2.5) for k in keys if k[0] == "long"}
    logic_long = {k[1:]: fake(0.1, 2.0) for k in keys if k[0] == "logic-long"}
    parity64 = {kind: {k[1:]: fake(0.1, 2.0) for k in keys if k[0] == kind} for kind in PARITY64}
    ours = ours_for_the_paper(sweep, sizes, logic, long, logic_long, parity64)
    assert {
        "parity, 4x the updates / ACT tau=0.03",
        "logic / no ACT",
        "logic, 2x the updates / no ACT",
        "parity, 64 elements, first n non-zero, 200k updates / no ACT",
    } <= set(ours["experiment"])
    errors = set(ours[ours["metric"] == "test error"]["experiment"])
    paper = set(reference("act")["experiment"])
    missing = sorted(errors - paper - {"logic / ACT tau=0.1"})  # the paper states no logic number at 0.1
    assert missing == []
    assert ours.groupby(["experiment", "metric"]).size().max() == experiments.SEEDS


def test_sequences_to_solve_logic_count_updates_times_the_batch_or_never():
    logic_long = {(1e-3, 0): fake(0.01, 5.0), (1e-3, 1): fake(0.2, 5.0), ("none", 0): fake(0.01, 1.0)}
    ours = ours_for_the_paper({}, {}, {}, logic_long=logic_long)
    sequences = ours[ours["metric"] == "million sequences to 5% error"].set_index("seed")["value"]
    assert sequences.loc[0] == 200 * 128 / 1e6 and pd.isna(sequences.loc[1]) and len(sequences) == 2


def test_updates_to_a_threshold_is_the_first_logged_step_below_it_or_nan():
    from augrnn.act.summary import updates_to

    run = lambda errors: SimpleNamespace(metrics=pd.DataFrame({"step": [100, 200, 300], "test_error": errors}))
    t = updates_to({(0.01, 0): run([0.4, 0.01, 0.2]), (0.1, 0): run([0.4, 0.3, 0.2])}).set_index("tau")
    assert t.loc[0.01, "updates"] == 200 and pd.isna(t.loc[0.1, "updates"])


def test_by_difficulty_groups_held_out_vectors_by_their_non_zero_count():
    import torch

    from augrnn.act.parity import ParityConfig, ParityNet
    from augrnn.act.summary import by_difficulty

    cfg = ParityConfig(bits=6, model={"hidden": 8})
    torch.manual_seed(0)
    runs = {(1e-3, 0): SimpleNamespace(model=ParityNet(cfg.model, cfg.bits))}
    runs[("none", 0)] = SimpleNamespace(model=ParityNet(cfg.model.replace(act="none"), cfg.bits))
    rows = by_difficulty(runs, cfg, size=600)
    assert sorted(set(rows["non-zero inputs"])) == list(range(1, 7))
    assert set(rows["model"]) == {"ACT tau=0.001", "no ACT"} and rows["error"].between(0, 1).all()
    assert (rows[rows["model"] == "no ACT"]["ponder"] == 1).all() and (rows["ponder"] >= 1).all()
    # an untrained network guesses: about half wrong over all counts
    assert 0.3 < rows.groupby("model")["error"].mean().min() and rows.groupby("model")["error"].mean().max() < 0.7
