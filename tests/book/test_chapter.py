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
    # large numbers keep their significant digits without scientific notation
    assert book.mean_sd([14000.0, 7250.0, 7000.0]) == "9,420 ± 4,000 (n=3)"
    assert book.mean_sd([128_500.0]) == "128,000 (n=1)"
    assert book.mean_sd([2040.0, 2560.0]) == "2,300 ± 370 (n=2)"  # not 3.7e+02
    assert book.mean_sd([1e-5]) == "1e-05 (n=1)"


def test_timing_box_reads_the_stored_runs_and_the_last_full_run():
    import re

    from augrnn.book import timing_box
    from augrnn.core import io

    text = timing_box("soft_lookup").data
    stored = len(list((io.repo_root() / "data" / "results" / "soft_lookup").glob("*/provenance.json")))
    assert f"retraining all {stored} runs" in text and "reusing the stored results" in text
    assert re.search(r"On a GPU: (not measured yet|see above)", text)
    assert "no stored timings yet" in timing_box("no_such_chapter").data


def test_compare_table_formats_large_numbers_and_can_keep_the_papers_other_metrics():
    import pandas as pd

    from augrnn.book.plots import compare_table

    ours = pd.DataFrame(
        [{"experiment": "copy", "metric": "sequences", "seed": s, "value": v} for s, v in enumerate([120e3, 138e3])]
    )
    paper = pd.DataFrame(
        [
            {
                "experiment": "copy",
                "metric": "sequences",
                "value": "~200000",
                "source": "fig. 3",
                "certainty": "approx",
            },
            {"experiment": "copy", "metric": "word error rate", "value": "14%", "source": "t. 1", "certainty": "paper"},
        ]
    )
    table = compare_table(ours, paper)
    assert len(table) == 1 and table.iloc[0]["ours (mean ± sd)"] == "129,000 ± 12,700"
    both = compare_table(ours, paper, paper_rows=True)
    assert len(both) == 2 and both.loc[("copy", "word error rate"), "seeds"] == 0
    assert both.loc[("copy", "word error rate"), "ours (mean ± sd)"] == ""


def test_a_claim_gets_a_verdict_from_our_mean_and_its_seeds():
    import pandas as pd
    import pytest

    from augrnn.book.plots import compare_table, verdict

    ours = pd.DataFrame(
        [
            {"experiment": e, "metric": "cost", "seed": s, "value": v}
            for e, vs in (("a", [0.05, 0.07, 0.0]), ("b", [3.0]))
            for s, v in enumerate(vs)
        ]
    )
    paper = pd.DataFrame(
        [
            {
                "experiment": e,
                "metric": "cost",
                "value": "near 0",
                "source": "fig. 3",
                "certainty": "stated",
                "holds_if": "< 0.1",
            }
            for e in "abc"
        ]
    )
    table = compare_table(ours, paper, paper_rows=True)["verdict"]
    assert list(table) == ["reproduced", "not reproduced (1 seed)", "not run"]
    assert verdict(">= 2", 2.0, 3) == "reproduced" and verdict("", 1.0, 3) == "–"
    never = ours.assign(value=[1.0, float("nan"), 2.0, 3.0])  # one seed of "a" never got there
    row = compare_table(never, paper.assign(holds_if="< 10")).loc[("a", "cost")]
    assert row["ours (mean ± sd)"].endswith("never in 1 of 3")
    assert row["verdict"] == "not reproduced on the mean; holds in 2 of 3 seeds"
    assert verdict("< 1", 0.5, 3, passing=2) == "reproduced on the mean; holds in 2 of 3 seeds"
    assert verdict("< 1", 0.5, 3, passing=3) == "reproduced" and verdict("< 1", 5.0, 3, passing=0) == "not reproduced"
    assert (
        verdict("> 0.1 and < 0.3", 0.2, 3) == "reproduced" and verdict("> 0.1 and < 0.3", 0.45, 3) == "not reproduced"
    )
    with pytest.raises(ValueError, match="holds_if"):
        verdict("about 2", 1.0, 3)
    with pytest.raises(ValueError, match="holds_if"):
        verdict("> 0.1 and about 2", 1.0, 3)


def test_a_long_table_is_folded_under_its_summary():
    import pandas as pd

    from augrnn.book import collapsed

    html = collapsed(pd.DataFrame({"run": ["a<b", "c"]}), "2 runs & more").data
    assert html.startswith("<details><summary>2 runs &amp; more</summary>") and "a&lt;b" in html
    assert html.rstrip().endswith("</details>")


def test_count_ticks_are_short():
    from augrnn.book.plots import _short_number

    assert [_short_number(v) for v in (0, 500, 2500, 20_000, 1_500_000)] == ["0", "500", "2.5k", "20k", "1.5M"]


def test_the_arithmetic_programs_figure_is_one_column_that_fits_a_phone():
    import matplotlib.pyplot as plt

    from augrnn.book import figures
    from augrnn.programmer import arithmetic

    model = arithmetic.Arithmetic().build_model(arithmetic.ArithmeticConfig())
    shown = ["a + b", "a - b", "a + b - c"]
    programs = figures.arithmetic_programs(model, shown)
    fig = plt.gcf()
    width, height = fig.get_size_inches()
    assert width <= 6 and height > width / 2, "stacked panels, at most 6 in (600 px at the book's 100 dpi) wide"
    assert list(programs) == shown
    assert all(p and set(p) <= set(arithmetic.OPERATIONS) for p in programs.values())
    plt.close(fig)
