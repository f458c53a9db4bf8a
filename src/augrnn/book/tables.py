"""Tables the chapters show: the paper's setup beside ours, generated from data/reference/ and the
chapter's configs."""

from __future__ import annotations

import pandas as pd

from ..core import io
from ..core.config import ConfigError


def setup_table(experiments, scale: str) -> pd.DataFrame:
    """The paper's settings (data/reference/<chapter>_setup.csv) beside ours (`experiments.setup`).

    Every setting the paper's sheet lists must have our value, and the other way round: a setting
    that one side lacks is an error, not a blank row."""
    ref = pd.read_csv(
        io.repo_root() / "data" / "reference" / f"{experiments.CHAPTER}_setup.csv", keep_default_na=False
    ).set_index("setting")
    ours = experiments.setup(scale)
    if set(ours) != set(ref.index):
        raise ConfigError(
            f"setup of {experiments.CHAPTER!r}: only in data/reference: {sorted(set(ref.index) - set(ours))}; "
            f"only in experiments.setup: {sorted(set(ours) - set(ref.index))}"
        )
    table = ref.assign(here=[ours[s] for s in ref.index])[["paper", "here", "source"]]
    table.index.name = ""
    return table


def beside_paper(ours: pd.DataFrame, name: str, on: list[str], value: str) -> pd.DataFrame:
    """Our rows beside the paper's (data/reference/<name>.csv) on the key columns `on`; the paper's
    columns get " (paper)", and "ours / paper" is the ratio of the `value` columns. A row of ours that
    the paper has no number for is an error, not a blank."""
    ref = pd.read_csv(io.repo_root() / "data" / "reference" / f"{name}.csv")
    table = ours.merge(ref, on=on, how="left", suffixes=("", " (paper)"), validate="many_to_one")
    missing = table[table[f"{value} (paper)"].isna()]
    if len(missing):
        raise ConfigError(f"data/reference/{name}.csv has no row for {missing[on].to_dict('records')}")
    return table.assign(**{"ours / paper": table[value] / table[f"{value} (paper)"]})
