import math

import pandas as pd
import pytest
import torch

from augrnn.core.config import ConfigError
from augrnn.ntm.more_tasks import beta_half, ngram_batch, optimal_ngram_bits, priority_sort_batch


def test_beta_half_has_the_arcsine_law():
    p = beta_half((200_000,), torch.Generator().manual_seed(0), "cpu")
    assert abs(float(p.mean()) - 0.5) < 0.01
    # Beta(1/2, 1/2): P(p < 0.1) = (2 / pi) asin(sqrt(0.1)) ~ 0.205, U-shaped (uniform would give 0.1)
    assert abs(float((p < 0.1).float().mean()) - 2 / math.pi * math.asin(math.sqrt(0.1))) < 0.005


def test_ngram_bits_follow_their_table_and_targets_are_the_next_bit():
    b = ngram_batch(64, 400, 2, torch.Generator().manual_seed(1), "cpu")
    bits, table = b["x"][..., 0], b["table"]
    assert torch.equal(b["y"][:, :-1, 0], bits[:, 1:])
    assert b["mask"][:, 1:399].all() and b["mask"][:, 0].sum() == 0 and b["mask"][:, 399].sum() == 0
    # after context (1, 0) -> index 2: the share of ones matches the table's probability
    follows = bits[:, 2:][(bits[:, :-2] == 1) & (bits[:, 1:-1] == 0)]
    counts = ((bits[:, :-2] == 1) & (bits[:, 1:-1] == 0)).sum(1).float()
    expected = (table[:, 2] * counts).sum() / counts.sum()
    assert abs(float(follows.mean()) - float(expected)) < 0.03


def test_optimal_cost_by_hand_eq_10():
    # context of 1 bit; sequence 0 0 0 1: predictions of bits 1..3 after contexts 0, 0, 0
    # bit 1 = 0: P(1) = 0.5 / 1 -> -log2(0.5) = 1
    # bit 2 = 0: N0 = 1: P(1) = 0.5 / 2 = 0.25 -> -log2(0.75)
    # bit 3 = 1: N0 = 2: P(1) = 0.5 / 3 -> -log2(1/6)
    cost = optimal_ngram_bits(torch.tensor([[0.0, 0.0, 0.0, 1.0]]), 1)
    assert torch.allclose(cost, torch.tensor([1 - math.log2(0.75) + math.log2(6)]))


def test_optimum_beats_a_fair_coin_and_knowing_the_table_beats_the_optimum():
    b = ngram_batch(256, 200, 5, torch.Generator().manual_seed(2), "cpu")
    bits = b["x"][..., 0]
    optimum = optimal_ngram_bits(bits, 5).mean()
    assert optimum < 195  # a fair coin costs 1 bit for each of the 195 counted bits
    weights = 2 ** torch.arange(4, -1, -1).float()
    rows = torch.arange(256).unsqueeze(1)
    ctx = torch.stack([bits[:, t - 5 : t] @ weights for t in range(5, 200)], 1).long()
    p = b["table"][rows, ctx]
    oracle = -torch.log2(torch.where(bits[:, 5:] > 0, p, 1 - p)).sum(1).mean()
    assert oracle < optimum


def test_priority_sort_target_is_the_top_vectors_highest_first():
    b = priority_sort_batch(3, 5, 3, 4, torch.Generator().manual_seed(3), "cpu")
    assert b["x"].shape == (3, 9, 6) and b["y"].shape == (3, 9, 4)
    for i in range(3):
        pri = b["x"][i, :5, 4]
        top = sorted(range(5), key=lambda j: -float(pri[j]))[:3]
        assert torch.equal(b["y"][i, 6:], b["x"][i, top, :4])
    assert torch.all(b["x"][:, 5, 5] == 1) and b["mask"][:, 6:].all() and b["mask"][:, :6].sum() == 0
    assert float(b["priority"].min()) >= -1 and float(b["priority"].max()) <= 1


def test_both_tasks_train_through_fit_and_ngrams_report_the_optimum():
    import pytest

    from augrnn.core.config import ConfigError
    from augrnn.core.train import fit
    from augrnn.ntm.tasks import NTMConfig, NTMTask

    model = {"hidden": 16, "locations": 16, "width": 6, "controller": "feedforward", "read_heads": 2, "write_heads": 2}
    for task in ("ngrams", "priority_sort"):
        cfg = NTMConfig(task=task, model=model, steps=4, batch_size=4, log_every=2, eval_size=8,
                        ngram_len=30, sort_items=6, sort_keep=4)  # fmt: skip
        m = fit(NTMTask(), cfg, None, progress=False).metrics
        assert m["test_cost"].notna().all()
        assert ("test_optimal_cost" in m) == (task == "ngrams")
    assert float(m["test_cost"].iloc[-1]) > 0
    with pytest.raises(ConfigError, match="sort_keep = 21 must be <= sort_items = 20"):
        NTMConfig(task="priority_sort", sort_keep=21)


def test_normalised_repeat_channel_has_mean_0_and_variance_1_over_the_counts():
    from augrnn.ntm.tasks import NTMConfig, repeat_signal

    cfg = NTMConfig(task="repeat_copy", repeat_channel="normalised", max_repeats=10)
    values = torch.tensor([repeat_signal(cfg, r) for r in range(1, 11)], dtype=torch.float64)
    assert abs(float(values.mean())) < 1e-9 and abs(float(values.var(unbiased=False)) - 1) < 1e-9
    assert repeat_signal(NTMConfig(task="repeat_copy", max_repeats=10), 5) == 0.5  # the old default


def test_a_repeat_copy_run_without_weights_gives_the_chapter_the_same_generalisation(tmp_path):
    """The 3 x 512 LSTM keeps its evaluations, not its 20 MB of weights: the chapter's generalisation
    tables from those equal the tables measured on the model itself."""
    from augrnn.core.train import fit, load_run
    from augrnn.ntm.analysis import generalisation_table
    from augrnn.ntm.tasks import NTMConfig, NTMTask

    cfg = NTMConfig(task="repeat_copy", model={"kind": "lstm", "lstm_hidden": 8, "lstm_layers": 1}, steps=4,
                    batch_size=4, log_every=2, eval_size=8, max_len=3, max_repeats=2)  # fmt: skip
    kept = fit(NTMTask(), cfg, None, progress=False)
    fit(NTMTask(), cfg.replace(keep_weights=False), tmp_path, progress=False)
    stored = load_run(NTMTask(), cfg.replace(keep_weights=False), tmp_path)
    assert stored.model is None
    for sizes, counts in (([6], [1, 2]), ([3], [4]), ([3], [1, 2])):
        ours = generalisation_table({("repeat_copy", "LSTM", 0): stored}, "repeat_copy", sizes, repeats=counts)
        direct = generalisation_table({("repeat_copy", "LSTM", 0): kept}, "repeat_copy", sizes, repeats=counts)
        pd.testing.assert_frame_equal(ours, direct)
    with pytest.raises(ValueError, match="no evaluation at sizes"):
        generalisation_table({("repeat_copy", "LSTM", 0): stored}, "repeat_copy", [5], repeats=[1])
    with pytest.raises(ConfigError, match="keep_weights = False is allowed for task 'repeat_copy' only"):
        NTMConfig(task="copy", keep_weights=False)
