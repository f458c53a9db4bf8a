"""The attention chapter's tables, computed from stored runs: our headline numbers (one row per
task, model, metric and seed, each metric named) and the image readers side by side."""

from __future__ import annotations

import pandas as pd

from .digit_strips import sequence_accuracy
from .speech import digit_error_rate
from .translation import _data, bleu_by_length, bleu_scores


def headline(scores: dict, by_len: pd.DataFrame, speech_runs: dict, strip_runs: dict, fsdd=None) -> pd.DataFrame:
    """scores: (model, seed) -> `translation.bleu_scores`; by_len: `translation.bleu_by_length` of
    them; speech_runs, strip_runs: (model, seed) -> stored run (a hard reader reads its most likely
    region; `strip_readers` also scores it reading softly)."""
    rows = []
    for (name, s), sc in scores.items():
        for metric, key in (("BLEU (all test sentences)", "bleu"), ("BLEU (no unknown words)", "bleu_no_unk")):
            rows.append({"experiment": f"translation / {name}", "metric": metric, "seed": s, "value": sc[key]})
    for (name, s), r in by_len.groupby(["model", "seed"]):
        rows.append(
            {"experiment": f"translation / {name}", "metric": "BLEU on the longest sources", "seed": s,
             "value": r.iloc[-1]["BLEU"]}
        )  # fmt: skip
    for (name, s), r in speech_runs.items():
        err = digit_error_rate(r.model.cpu(), r.config, "cpu", path=fsdd)
        rows.append({"experiment": f"speech / {name}", "metric": "digit error rate", "seed": s, "value": err})
    for (name, s), r in strip_runs.items():
        acc = sequence_accuracy(r.model.cpu(), r.config, "cpu")
        rows.append({"experiment": f"image / {name}", "metric": "strips read exactly", "seed": s, "value": acc})
    return pd.DataFrame(rows)


def listeners(speech_runs: dict, gru_runs: dict) -> pd.DataFrame:
    """One row per listener, number of updates, model and seed: the digit error on the held-out
    utterances as the runs logged it. speech_runs (the LSTM listener) and gru_runs: (model, seed) ->
    stored run. The LSTM's runs are read at their end and at the GRU's budget, the same number of
    updates, which they log (every evaluation step of the GRU's runs is one of theirs)."""
    rows, gru_budgets = [], {g.config.steps for g in gru_runs.values()}
    for cell, runs in (("GRU", gru_runs), ("LSTM", speech_runs)):
        for (name, s), r in runs.items():
            logged = r.metrics.set_index("step")["test_digit_error"]
            for updates in sorted(gru_budgets | {r.config.steps}):
                if updates in logged.index:
                    rows.append({"listener": cell, "updates": updates, "model": name, "seed": s,
                                 "digit error": logged[updates]})  # fmt: skip
    return pd.DataFrame(rows)


def strip_readers(strip_runs: dict) -> pd.DataFrame:
    """One row per reader and seed: the share of held-out strips read exactly. A hard reader is
    scored twice: reading its most likely region (hard at test too) and reading the expectation
    of its attention (what Xu et al.'s code does at test)."""
    rows = []
    for (name, s), r in strip_runs.items():
        model, cfg = r.model.cpu(), r.config
        rows.append({"reader": name, "seed": s, "strips read exactly": sequence_accuracy(model, cfg, "cpu")})
        if cfg.model.read == "hard":
            soft = sequence_accuracy(model, cfg, "cpu", soft_read=True)
            rows.append({"reader": f"{name}, read softly at test", "seed": s, "strips read exactly": soft})
    return pd.DataFrame(rows)


def length_control(translation_runs: dict, test_pairs: int) -> pd.DataFrame:
    """BLEU against source length on a larger test set (its first sentences are the usual test
    set), each length group scored on all its sentences and on those without unknown words: longer
    sentences hold more held-out names, so this separates length from unknown words."""
    scores, known = {}, None
    for key, r in translation_runs.items():
        cfg = r.config.replace(test_pairs=test_pairs)
        scores[key] = bleu_scores(r.model.cpu(), cfg, "cpu")
        known = _data(cfg)["src"].stoi
    return bleu_by_length(scores, known=known)


def score_functions(runs_by_score: dict) -> pd.DataFrame:
    """runs_by_score: (score, seed) -> stored translation run. One row per run: BLEU on all test
    sentences and on those without unknown words."""
    rows = []
    for (score, s), r in runs_by_score.items():
        b = bleu_scores(r.model.cpu(), r.config, "cpu")
        rows.append({"score": score, "seed": s, "BLEU (all)": b["bleu"], "BLEU (no unknown words)": b["bleu_no_unk"]})
    return pd.DataFrame(rows)


def luong(reference: pd.DataFrame) -> pd.Series:
    """The paper's side of the score-function table: the rows "translation / score <name>" of
    data/reference/attention_scores.csv, indexed by score name."""
    rows = reference[reference["experiment"].str.startswith("translation / score ")]
    names = rows["experiment"].str.removeprefix("translation / score ")
    return pd.Series(rows["value"].values, index=names.values, name="Luong et al. 2015 (global attention)")
