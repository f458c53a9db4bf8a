"""Tables the ACT chapter reads off its trained runs (keys as in `experiments.plan`)."""

from __future__ import annotations

import pandas as pd
import torch

from .parity import parity_batch


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


def updates_to(runs: dict, threshold: float = 0.05) -> pd.DataFrame:
    """One row per run {(tau, seed): run}: the first logged update at which its held-out error is
    below `threshold` (NaN if it never is)."""
    rows = []
    for (tau, seed), r in runs.items():
        below = r.metrics[r.metrics["test_error"] < threshold]["step"]
        rows.append(
            {"tau": tau, "model": label(tau), "seed": seed, "updates": below.min() if len(below) else float("nan")}
        )
    return pd.DataFrame(rows)


# The 64-element parity runs with a long budget, by plan kind: the rows of data/reference/act.csv.
PARITY64 = {
    "parity64": "parity, 64 elements, curriculum, 200k updates",
    "parity64-random": "parity, 64 elements, random positions, 200k updates",
    "parity64-prefix": "parity, 64 elements, first n non-zero, 200k updates",
}


def ours_for_the_paper(
    sweep: dict, sizes: dict, logic: dict, long: dict | None = None, logic_long=None, parity64=None
) -> pd.DataFrame:
    """One row per (experiment, metric, seed), named as the rows of data/reference/act.csv: the parity
    sweep, the 64-element parity runs, the logic runs, the failing taus at 4x the budget, the logic
    runs at 2x the budget and 64-element parity with a long budget ({plan kind: runs}, PARITY64)."""
    groups = [
        ("parity", sweep),
        ("parity, 4x the updates", long or {}),
        ("parity, 64 elements", {(1e-3, s): r for (n, s), r in sizes.items() if n == 64}),
        *((name, (parity64 or {}).get(kind, {})) for kind, name in PARITY64.items()),
        ("logic", logic),
        ("logic, 2x the updates", logic_long or {}),
    ]
    rows = []
    for name, runs in groups:
        for _, row in final(runs).iterrows() if runs else []:
            for metric, col in [("test error", "test_error"), ("mean ponder time", "test_ponder")]:
                rows.append(
                    {"experiment": f"{name} / {row['model']}", "metric": metric, "seed": row["seed"], "value": row[col]}
                )
    # The paper's "about 10,000 iterations" to solve logic, in sequences (ours: updates x batch size).
    acting = {key: r for key, r in (logic_long or {}).items() if key[0] != "none"}
    for _, row in updates_to(acting).iterrows() if acting else []:
        sequences = row["updates"] * acting[(row["tau"], row["seed"])].config.batch_size / 1e6
        experiment = f"logic, 2x the updates / {row['model']}"
        rows.append(
            {
                "experiment": experiment,
                "metric": "million sequences to 5% error",
                "seed": row["seed"],
                "value": sequences,
            }
        )
    return pd.DataFrame(rows)


@torch.no_grad()
def by_difficulty(runs: dict, cfg, size: int = 8192, seed: int = 5) -> pd.DataFrame:
    """The paper's fig. 6 as data: `size` held-out vectors of `cfg` (a fixed draw), grouped by their
    number of non-zero elements; one row per run {(tau, seed): run} and count, with the mean ponder
    cost and the error of that run on those vectors."""
    probe = parity_batch(cfg, size, torch.Generator().manual_seed(seed), "cpu")
    rows = []
    for (tau, s), r in runs.items():
        logits, ponder, _ = r.model.cpu()(probe["x"])
        wrong = ((logits > 0).float() != probe["y"]).float()
        by_count = pd.DataFrame({"non-zero inputs": probe["nonzero"], "ponder": ponder, "error": wrong})
        rows.append(by_count.groupby("non-zero inputs").mean().reset_index().assign(model=label(tau), seed=s))
    return pd.concat(rows, ignore_index=True)
