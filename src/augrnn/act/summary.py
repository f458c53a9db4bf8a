"""Tables the ACT chapter reads off its trained runs (keys as in `experiments.plan`)."""

from __future__ import annotations

import pandas as pd


def label(tau) -> str:
    return "no ACT" if tau == "none" else f"ACT tau={tau:g}"


def final(runs: dict) -> pd.DataFrame:
    """One row per run {(tau, seed): run}: its last held-out error and ponder cost."""
    return pd.DataFrame(
        [
            {"tau": tau, "model": label(tau), "seed": seed, **r.metrics.iloc[-1][["test_error", "test_ponder"]]}
            for (tau, seed), r in runs.items()
        ]
    )


def ours_for_the_paper(sweep: dict, sizes: dict, logic: dict) -> pd.DataFrame:
    """One row per (experiment, metric, seed), named as the rows of data/reference/act.csv: the parity
    sweep, the 64-element parity runs and the logic runs."""
    groups = [
        ("parity", sweep),
        ("parity, 64 elements", {(1e-3, s): r for (n, s), r in sizes.items() if n == 64}),
        ("logic", logic),
    ]
    rows = []
    for name, runs in groups:
        for _, row in final(runs).iterrows() if runs else []:
            for metric, col in [("test error", "test_error"), ("mean ponder time", "test_ponder")]:
                rows.append(
                    {"experiment": f"{name} / {row['model']}", "metric": metric, "seed": row["seed"], "value": row[col]}
                )
    return pd.DataFrame(rows)
