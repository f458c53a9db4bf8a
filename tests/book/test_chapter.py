from types import SimpleNamespace

import pandas as pd

from augrnn import book


def fake_run(seed, value):
    return SimpleNamespace(config=SimpleNamespace(seed=seed), metrics=pd.DataFrame({"step": [1], "loss": [value]}))


def test_metrics_table_keeps_every_seed_of_a_shared_label():
    runs = [("ACT", fake_run(0, 1.0)), ("ACT", fake_run(1, 2.0)), ("no ACT", fake_run(0, 3.0))]
    table = book.metrics_table(runs)
    assert table.groupby("run")["seed"].nunique().to_dict() == {"ACT": 2, "no ACT": 1}
    assert book.metrics_table({"a": fake_run(0, 1.0)})["run"].tolist() == ["a"]  # a dict still works


def test_mean_sd_names_the_number_of_seeds():
    assert book.mean_sd([1.0, 3.0]) == "2 ± 1.4 (n=2)"
    assert book.mean_sd([0.5]) == "0.5 (n=1)"
    assert book.mean_sd([1.0, float("nan"), 3.0]) == "2 ± 1.4 (2 of 3)"
    assert book.mean_sd([float("nan")] * 3) == "never (0 of 3)"


def test_timing_box_reads_the_stored_runs_and_the_last_full_run():
    import re

    from augrnn.book import timing_box
    from augrnn.core import io

    text = timing_box("soft_lookup").data
    stored = len(list((io.repo_root() / "data" / "results" / "soft_lookup").glob("*/provenance.json")))
    assert f"retraining all {stored} runs" in text and "reusing the stored results" in text
    assert re.search(r"On a GPU: (not measured yet|see above)", text)
    assert "no stored timings yet" in timing_box("no_such_chapter").data
