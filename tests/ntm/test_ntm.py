import math

import pytest
import torch

from augrnn.core.train import fit
from augrnn.ntm import addressing
from augrnn.ntm import memory as access
from augrnn.ntm.model import NTM, NTMModelConfig
from augrnn.ntm.tasks import NTMConfig, NTMTask, bits_per_sequence, sample_batch


def t(x):
    return torch.tensor(x, dtype=torch.float64)


def test_content_weights_by_hand():
    memory = t([[[1, 0], [0, 1], [1, 1]]])  # B=1, N=3, M=2
    key = t([[[1, 0]]])  # H=1
    beta = t([[2.0]])
    w = addressing.content_weights(memory, key, beta)
    sims = torch.tensor([1.0, 0.0, 1 / math.sqrt(2)], dtype=torch.float64)
    expected = torch.softmax(2.0 * sims, dim=0)
    assert w.shape == (1, 1, 3)
    assert torch.allclose(w[0, 0], expected)


def test_content_weights_safe_for_zero_rows_and_keys():
    memory = torch.zeros(2, 4, 3)
    w = addressing.content_weights(memory, torch.zeros(2, 2, 3), torch.full((2, 2), 50.0))
    assert torch.isfinite(w).all()
    assert torch.allclose(w, torch.full_like(w, 0.25))


def test_interpolate_by_hand():
    w = addressing.interpolate(t([[[1, 0, 0]]]), t([[[0, 0, 1]]]), t([[0.25]]))
    assert torch.allclose(w, t([[[0.25, 0, 0.75]]]))


def test_shift_moves_focus_forward_and_wraps_around():
    w = t([[[0, 0, 0, 1]]])  # focus on the last of N=4 locations
    plus_one = t([[[0, 0, 1]]])  # all mass on offset +1
    assert torch.allclose(addressing.shift(w, plus_one), t([[[1, 0, 0, 0]]]))  # wraps to location 0
    minus_one = t([[[1, 0, 0]]])
    assert torch.allclose(addressing.shift(t([[[1, 0, 0, 0]]]), minus_one), t([[[0, 0, 0, 1]]]))
    stay = t([[[0, 1, 0]]])
    assert torch.allclose(addressing.shift(w, stay), w)


def test_shift_blurs_by_hand():
    w = t([[[0, 1, 0, 0, 0]]])
    s = t([[[0.2, 0.5, 0.3]]])  # offsets -1, 0, +1
    assert torch.allclose(addressing.shift(w, s), t([[[0.2, 0.5, 0.3, 0, 0]]]))
    s5 = t([[[0.1, 0, 0, 0, 0.9]]])  # S=5: offsets -2 and +2
    assert torch.allclose(addressing.shift(t([[[1, 0, 0, 0, 0]]]), s5), t([[[0, 0, 0.9, 0.1, 0]]]))


def test_shift_is_eq_8_term_by_term_for_every_allowed_width():
    # each term of the circular convolution is the weighting rolled by its offset (roll(w, o)[i] = w[i - o])
    torch.manual_seed(0)
    for n, size in [(7, 7), (4, 3), (5, 5), (9, 1)]:
        w, s = torch.rand(2, 3, n), torch.softmax(torch.randn(2, 3, size), dim=-1)
        terms = [s[..., k : k + 1] * torch.roll(w, k - size // 2, dims=-1) for k in range(size)]
        assert torch.allclose(addressing.shift(w, s), sum(terms), atol=1e-6)
    with pytest.raises(ValueError, match="5 offsets need at least as many locations, got 4"):
        addressing.shift(torch.rand(1, 1, 4), torch.rand(1, 1, 5))


def test_sharpen_by_hand():
    w = addressing.sharpen(t([[[0.5, 0.25, 0.25]]]), t([[2.0]]))
    assert torch.allclose(w, t([[[2 / 3, 1 / 6, 1 / 6]]]))
    same = addressing.sharpen(t([[[0.5, 0.25, 0.25]]]), t([[1.0]]))
    assert torch.allclose(same, t([[[0.5, 0.25, 0.25]]]))


def test_read_and_write_by_hand():
    memory = t([[[1, 2], [3, 4]]])
    assert torch.allclose(access.read(memory, t([[[0.25, 0.75]]])), t([[[2.5, 3.5]]]))
    # one head: erase half of location 0's first column, then add
    new = access.write(memory, t([[[1, 0]]]), t([[[0.5, 0]]]), t([[[10, 20]]]))
    assert torch.allclose(new, t([[[10.5, 22], [3, 4]]]))
    # two heads on the same location: erasures multiply, additions sum
    two = access.write(memory, t([[[1, 0], [1, 0]]]), t([[[0.5, 0], [0.5, 0]]]), t([[[1, 0], [0, 1]]]))
    assert torch.allclose(two, t([[[1 * 0.25 + 1, 2 + 1], [3, 4]]]))


def test_extreme_controller_outputs_keep_weightings_finite_and_normalised():
    model = NTM(NTMModelConfig(locations=16, width=6, read_heads=2, write_heads=2), 9, 8)
    for value in (1e6, -1e6, float(1e30)):
        out = torch.full((3, model.head_params.out_features), value)
        p = model.split_heads(out)
        state = model.initial_state(3)
        trace = {}
        w = addressing.address(state["memory"], state["w"], p["key"], p["beta"], p["g"], p["s"], p["gamma"], trace)
        for name, tensor in trace.items():
            assert torch.isfinite(tensor).all(), name
            assert torch.allclose(tensor.sum(-1), torch.ones(3, 4), atol=1e-5), name
        memory = access.write(state["memory"], w[:, 2:], p["erase"], p["add"])
        assert torch.isfinite(memory).all()


def test_gradcheck_one_full_ntm_step_in_float64():
    torch.manual_seed(0)
    model = NTM(
        NTMModelConfig(hidden=4, locations=5, width=3, read_heads=1, write_heads=1, memory_init="learned"), 3, 2
    ).double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    memory = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)

    def one_step(x, memory):
        state = model.initial_state(2)
        state["memory"] = memory
        y, new = model.step(x, state)
        return y, new["memory"], new["w"], new["reads"]

    assert torch.autograd.gradcheck(one_step, (x, memory), eps=1e-6, atol=1e-5)


def test_forward_is_batched_and_traces_every_stage():
    cfg = NTMConfig(model={"locations": 16, "hidden": 16, "width": 6, "read_heads": 2})
    model = NTMTask().build_model(cfg)
    b = sample_batch(cfg, 4, torch.Generator().manual_seed(0), "cpu", size=5)
    logits, trace = model(b["x"], trace=True)
    assert logits.shape == (4, 11, 8)
    for stage in ("content", "interpolated", "shifted", "sharpened"):
        assert trace[stage].shape == (4, 11, 3, 16)
    assert trace["memory"].shape == (4, 16, 6)


class DeviceSpy(torch.overrides.TorchFunctionMode):
    """Records the device of every tensor created by a torch function."""

    def __init__(self):
        super().__init__()
        self.devices = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for o in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(o, torch.Tensor):
                self.devices.add(o.device.type)
        return out


@pytest.mark.parametrize("device", ["meta"] + (["cuda"] if torch.cuda.is_available() else []))
def test_every_tensor_is_created_on_the_input_device(device):
    """On the 'meta' device any tensor made on the CPU by mistake shows up as a second device."""
    cfg = NTMConfig(model={"locations": 8, "hidden": 8, "width": 4})
    model = NTMTask().build_model(cfg).to(device)
    x = torch.zeros(2, 5, 9, device=device)
    spy = DeviceSpy()
    with spy:
        model(x, trace=True)
    assert spy.devices == {device}


def test_copy_batches_are_well_formed():
    cfg = NTMConfig()
    b = sample_batch(cfg, 2, torch.Generator().manual_seed(1), "cpu", size=4)
    assert b["x"].shape == (2, 9, 9)
    assert torch.equal(b["y"][:, 5:], b["x"][:, :4, :8])
    assert b["x"][:, 4, 8].eq(1).all() and b["mask"][0].tolist() == [0] * 5 + [1] * 4
    perfect = torch.where(b["y"] > 0.5, 20.0, -20.0)
    assert float(bits_per_sequence(perfect, b)) < 1e-6


def test_repeat_copy_and_recall_targets():
    cfg = NTMConfig(task="repeat_copy", max_len=3, max_repeats=4)
    g = torch.Generator().manual_seed(0)
    from augrnn.ntm.tasks import recall_batch, repeat_copy_batch

    b = repeat_copy_batch(cfg, 2, 3, 2, g, "cpu")
    seq = b["x"][:, :3, :8]
    assert torch.equal(b["y"][:, 5:11, :8], torch.cat([seq, seq], 1))
    assert b["y"][:, 11, 8].eq(1).all() and float(b["x"][0, 4, 9]) == 0.5
    rc = NTMConfig(task="associative_recall", bits=6)
    r = recall_batch(rc, 3, 4, g, "cpu")
    assert r["x"].shape == (3, 4 * 4 + 5 + 3, 8)
    query = r["x"][:, 17:20, :6]
    items = r["x"][:, :16].reshape(3, 4, 4, 8)[:, :, 1:, :6]
    for i in range(3):
        k = next(j for j in range(4) if torch.equal(items[i, j], query[i]))
        assert torch.equal(r["y"][i, -3:], items[i, k + 1])


def test_short_training_reduces_copy_cost():
    cfg = NTMConfig(
        steps=150, batch_size=16, lr=1e-2, log_every=10, max_len=3, model={"locations": 16, "hidden": 32}, eval_size=32
    )
    m = fit(NTMTask(), cfg, None, progress=False).metrics
    assert m["test_cost"].iloc[-1] < 0.7 * m["test_cost"].iloc[0]


def test_bad_ntm_config_is_refused():
    from augrnn.core.config import ConfigError

    with pytest.raises(ConfigError, match="NTMConfig.task = 'sort' is not allowed; choose one of"):
        NTMConfig(task="sort")
    with pytest.raises(ConfigError, match="min_len = 5 must be <= max_len = 3"):
        NTMConfig(min_len=5, max_len=3)
    with pytest.raises(ConfigError, match="NTMModelConfig.shifts = 7 must be <= locations = 4"):
        NTMConfig(model={"locations": 4, "shifts": 7})


def test_the_claims_pair_each_ntm_seed_with_the_lstm_of_the_same_seed():
    from types import SimpleNamespace

    import pandas as pd

    from augrnn.ntm.analysis import ours_for_the_paper

    def run(costs, optimum=None):
        m = pd.DataFrame({"step": [1, 2], "examples": [32, 64], "test_cost": costs})
        return SimpleNamespace(metrics=m if optimum is None else m.assign(test_optimal_cost=optimum))

    runs = {
        ("ngrams", "NTM", 0): run([9.0, 5.0], 4.0),
        ("ngrams", "LSTM", 0): run([9.0, 6.0], 4.0),
        ("priority_sort", "NTM", 0): run([50.0, 2.0]),
        ("priority_sort", "LSTM", 0): run([50.0, 40.0]),
        ("priority_sort", "NTM", 1): run([50.0, 0.05]),  # no LSTM of seed 1: no ratio
        ("repeat_copy", "NTM", 0): run([0.05, 0.0]),  # below 0.1 bit after 32 sequences, the LSTM after 64
        ("repeat_copy", "LSTM", 0): run([5.0, 0.05]),
        ("repeat_copy", "NTM", 1): run([0.05, 0.0]),
        ("repeat_copy", "LSTM", 1): run([5.0, 5.0]),  # never: the NTM's fraction is 0
    }
    empty = pd.DataFrame(columns=["model", "seed", "size", "repeats", "bit_errors", "data_bit_errors", "cost"])
    ours = ours_for_the_paper(runs, empty, empty, empty, empty).set_index(["experiment", "metric", "seed"])["value"]
    assert ours["ngrams / NTM", "cost above the Bayesian optimum (bits per sequence)", 0] == 1.0
    assert ours["ngrams / NTM", "cost above the optimum, as a fraction of the LSTM's", 0] == 0.5
    assert ours["priority_sort / NTM", "final cost, as a fraction of the LSTM's", 0] == 0.05
    assert ("priority_sort / NTM", "final cost, as a fraction of the LSTM's", 1) not in ours.index
    assert ours["priority_sort / NTM", "training sequences until cost < 0.1 bit", 1] == 64
    faster = "sequences until cost < 0.1 bit, as a fraction of the LSTM's"
    assert (ours["repeat_copy / NTM", faster, 0], ours["repeat_copy / NTM", faster, 1]) == (0.5, 0.0)


def test_memory_starts_as_collier_and_beel_initialise_it():
    small = dict(hidden=4, locations=5, width=3)
    constant, learned, random = (
        NTM(NTMModelConfig(memory_init=m, **small), 3, 2) for m in ("constant", "learned", "random")
    )
    assert torch.equal(constant.initial_state(2)["memory"], torch.full((2, 5, 3), 1e-6))
    assert torch.equal(learned.initial_state(2)["memory"][0], torch.tanh(learned.m0))
    first, second = random.initial_state(2)["memory"], random.initial_state(2)["memory"]
    assert not torch.equal(first, second) and not torch.equal(first[0], first[1])  # afresh per episode
    assert first.abs().max() < 1


def test_generalisation_of_a_random_memory_does_not_depend_on_what_ran_before():
    from augrnn.ntm.tasks import generalisation

    cfg = NTMConfig(max_len=3, model={"locations": 8, "width": 4, "hidden": 8, "memory_init": "random"})
    torch.manual_seed(0)
    model = NTMTask().build_model(cfg)
    first = generalisation(model, cfg, [2, 4], n=4)
    torch.rand(5)  # another state of the global generator, as after training instead of after loading
    assert generalisation(model, cfg, [2, 4], n=4) == first
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    generalisation(model, cfg, [2, 4], n=4)
    assert torch.equal(torch.rand(3), expected)  # and the caller's generator is left where it was
    assert model.initial_state(2)["memory"].std() > 0  # the memory is random: the test has teeth


def test_memory_comparison_changes_only_the_initialisation_and_reuses_the_headline_copy_ntm():
    from augrnn.ntm import experiments

    plan = {p.key: p for p in experiments.plan("full")}
    n = experiments.budget("full")["memory_seeds"]
    for init in experiments.MEMORY_INITS:
        for seed in range(n):
            cfg = plan["copy", experiments.memory_label(init), seed].config
            headline = plan["copy", "NTM", seed].config
            assert cfg.model.memory_init == init
            assert cfg.replace(model=cfg.model.replace(memory_init="constant")) == headline
    assert ("copy", "LSTM", n - 1) not in plan  # the extra seeds are the NTM's only


def test_memory_comparison_pairs_constant_with_the_next_best_scheme_seed_by_seed():
    from types import SimpleNamespace

    import pandas as pd

    from augrnn.ntm.analysis import MEMORY_RELIABILITY, MEMORY_SPEED, memory_comparison

    def run(init, costs):
        m = pd.DataFrame({"step": [1, 2, 3], "examples": [10, 20, 30], "test_cost": costs})
        return SimpleNamespace(metrics=m, config=SimpleNamespace(model=SimpleNamespace(memory_init=init)))

    runs = {
        ("copy", "NTM", 0): run("constant", [5.0, 0.05, 0.0]),  # 0.1 bit after 20 sequences
        ("copy", "NTM", 1): run("constant", [5.0, 5.0, 5.0]),  # never
        ("copy", "NTM", 2): run("constant", [5.0, 5.0, 5.0]),
        ("copy", "NTM, memory learned", 0): run("learned", [5.0, 5.0, 0.05]),  # 30: the next best
        ("copy", "NTM, memory learned", 1): run("learned", [0.05, 0.0, 0.0]),
        ("copy", "NTM, memory learned", 2): run("learned", [5.0, 5.0, 5.0]),
        ("copy", "NTM, memory random", 0): run("random", [5.0, 5.0, 5.0]),  # never: not the next best
        ("copy", "NTM, memory random", 1): run("random", [5.0, 5.0, 5.0]),
        ("copy", "NTM, batch 8", 0): run("constant", [0.05, 0.0, 0.0]),  # another recipe: not counted
    }
    assert sorted(memory_comparison(runs)) == sorted(
        [
            (MEMORY_SPEED, 0, 1.5),
            (MEMORY_RELIABILITY, 0, 0.0),
            (MEMORY_RELIABILITY, 1, -1.0),
            (MEMORY_RELIABILITY, 2, 0.0),
        ]
    )


def test_parameter_counts_count_the_lstm_baseline_by_hand_and_every_recall_reading():
    from augrnn.ntm import analysis, experiments

    counts = analysis.parameter_counts(experiments.plan("smoke")).set_index(["task", "model", "network"]).sort_index()
    cfg = experiments.config("smoke", "copy", "LSTM", 0, **experiments.task_fields("smoke", "copy"))
    h, i, o = cfg.model.lstm_hidden, cfg.bits + 1, cfg.bits  # torch's LSTM: two bias vectors per gate
    by_hand = 4 * h * (i + h) + 8 * h + 2 * (4 * h * 2 * h + 8 * h) + h * o + o
    assert counts.loc[("copy", "LSTM", f"LSTM 3 × {h}"), "parameters"] == by_hand
    recall = {n.split(", ")[1]: v for n, v in counts.loc[("associative_recall", "NTM"), "parameters"].items()}
    assert sorted(recall) == ["4 read + 1 write head", "4 read + 4 write heads", "5 read + 5 write heads"]
    assert recall["4 read + 1 write head"] < recall["4 read + 4 write heads"] < recall["5 read + 5 write heads"]
    assert experiments.PAPER_OPTIMISER not in counts.index.get_level_values("model")  # one row per network


def only_the_optimisation_differs(paper, ours) -> bool:
    """Whether `paper` is `ours` but for its optimisation and its logging and checkpoint schedule."""
    optimisation = ("steps", "batch_size", "optimizer", "lr", "clip", "clip_mode", "curriculum", "warmdown")
    schedule = ("log_every", "checkpoint_every")
    return paper.replace(**{k: getattr(ours, k) for k in optimisation + schedule}) == ours


@pytest.mark.parametrize("task,rate", [("associative_recall", 1e-4), ("priority_sort", 3e-5)])
def test_the_paper_optimiser_runs_change_only_the_optimisation_of_the_ntm(task, rate):
    from augrnn.ntm import experiments

    plan = {p.key: p.config for p in experiments.plan("full")}
    paper, ours = plan[task, experiments.PAPER_OPTIMISER, 0], plan[task, "NTM", 0]
    assert (paper.optimizer, paper.lr, paper.momentum, paper.clip, paper.clip_mode) == (
        "rmsprop",
        rate,  # the paper's tables 1-3
        0.9,
        10.0,
        "value",
    )
    assert (paper.batch_size, paper.curriculum, paper.warmdown) == (1, 0, 0.0)
    assert paper.model == ours.model and paper.loss == ours.loss == "bits"
    assert only_the_optimisation_differs(paper, ours)


@pytest.mark.parametrize("label,rate,ours", [("NTM", 3e-5, "NTM, memory learned"), ("LSTM", 1e-4, "LSTM")])
def test_the_paper_protocol_on_ngrams_changes_only_the_optimisation_and_trains_both_models_alike(label, rate, ours):
    from augrnn.ntm import experiments

    plan = {p.key: p.config for p in experiments.plan("full")}
    paper = plan[
        "ngrams", {"NTM": experiments.LEARNED_PAPER_OPTIMISER, "LSTM": experiments.LSTM_PAPER_OPTIMISER}[label], 0
    ]
    ours = plan["ngrams", ours, 0]
    assert (paper.optimizer, paper.lr, paper.momentum, paper.clip, paper.clip_mode) == (
        "rmsprop",
        rate,
        0.9,
        10.0,
        "value",
    )
    assert (paper.batch_size, paper.curriculum, paper.warmdown, paper.steps) == (1, 0, 0.0, 25000)
    assert only_the_optimisation_differs(paper, ours)


def test_a_stand_in_replaces_the_headline_runs_in_the_claims_and_only_there():
    from types import SimpleNamespace

    import pandas as pd

    from augrnn.ntm.analysis import ours_for_the_paper, stand_in

    def run(costs):
        config = SimpleNamespace(model=SimpleNamespace(memory_init="constant"))  # the copy NTM's, for its own claims
        return SimpleNamespace(
            metrics=pd.DataFrame({"step": [1, 2], "examples": [32, 64], "test_cost": costs}), config=config
        )

    runs = {
        ("copy", "LSTM", 0): run([30.0, 20.0]),
        ("copy", "LSTM", 1): run([30.0, 25.0]),  # no longer run of seed 1: it leaves the claims
        ("copy", "LSTM, long", 0): run([30.0, 0.5]),
        ("copy", "NTM", 0): run([30.0, 0.05]),
    }
    stand_ins = {("copy", "LSTM, long"): "LSTM"}
    assert sorted(stand_in(runs, stand_ins)) == [("copy", "LSTM", 0), ("copy", "NTM", 0)]
    assert stand_in(runs, stand_ins)[("copy", "LSTM", 0)] is runs[("copy", "LSTM, long", 0)]
    gen = pd.DataFrame(
        {"model": ["LSTM", "LSTM, long", "NTM"], "seed": 0, "size": 20, "bit_errors": [24.0, 0.25, 0.0], "cost": 0.0}
    )
    empty = pd.DataFrame(columns=["model", "seed", "size", "repeats", "bit_errors", "data_bit_errors", "cost"])
    ours = ours_for_the_paper(runs, gen, empty, empty, empty, stand_ins)
    ours = ours.set_index(["experiment", "metric", "seed"])["value"]
    assert ours["copy / LSTM", "final cost (bits per sequence)", 0] == 0.5
    assert ("copy / LSTM", "final cost (bits per sequence)", 1) not in ours.index
    assert ours["copy / LSTM", "bit errors per sequence at length 20", 0] == 0.25
    assert ours["copy / NTM", "bit errors per sequence at length 20", 0] == 0.0


def test_only_longer_runs_with_all_the_seeds_stand_in():
    from augrnn.ntm import experiments as E

    for scale in ("smoke", "full"):
        stand_ins = E.stand_ins(scale)
        assert stand_ins[("copy", E.long_label("copy", "LSTM", scale))] == "LSTM"  # 3 seeds, as the headline runs
        assert ("ngrams", E.long_label("ngrams", "LSTM", scale)) not in stand_ins  # a one-seed probe
        # priority sort: the learned memory (the paper's "bias values"), against the LSTM of its budget
        assert E.scored("priority_sort", "NTM", scale) == E.LEARNED_MEMORY
        assert E.scored("priority_sort", "LSTM", scale) == "LSTM"
        assert E.scored("copy", "LSTM", scale) == E.long_label("copy", "LSTM", scale)
        assert E.scored("copy", "NTM", scale) == "NTM"


def test_ngram_budgets_pairs_each_ntm_with_the_lstm_of_its_seed_and_budget():
    from types import SimpleNamespace

    import pandas as pd

    from augrnn.ntm.analysis import ngram_budgets

    def run(kind, steps, cost):
        metrics = pd.DataFrame({"test_cost": [200.0, cost], "test_optimal_cost": [126.0, 126.0]})
        return SimpleNamespace(metrics=metrics, config=SimpleNamespace(steps=steps, model=SimpleNamespace(kind=kind)))

    runs = {
        ("ngrams", "NTM", 0): run("ntm", 5000, 136.0),
        ("ngrams", "LSTM", 0): run("lstm", 5000, 131.0),
        ("ngrams", "NTM, 8,000 updates", 0): run("ntm", 8000, 127.0),
        ("ngrams", "LSTM, 8,000 updates", 0): run("lstm", 8000, 128.0),
        ("ngrams", "NTM, rate 3e-4", 0): run("ntm", 5000, 141.0),  # another rate, the same LSTM
        ("ngrams", "NTM", 1): run("ntm", 5000, 130.0),  # no LSTM of seed 1: left out
        ("ngrams", "NTM, paper's optimiser", 0): run("ntm", 100000, 129.0),  # none of its updates: left out
        ("copy", "NTM", 0): run("ntm", 5000, 0.0),
    }
    table = ngram_budgets(runs)
    assert table[["run", "updates", "seed"]].values.tolist() == [
        ["NTM", 5000, 0],
        ["NTM, rate 3e-4", 5000, 0],
        ["NTM, 8,000 updates", 8000, 0],
    ]
    assert table["NTM above the optimum"].tolist() == [10.0, 15.0, 1.0]
    assert table["LSTM above the optimum"].tolist() == [5.0, 5.0, 2.0]
    assert table["NTM / LSTM"].tolist() == [2.0, 3.0, 0.5]


def test_budget_rate_and_memory_labels_name_planned_runs():
    from augrnn.ntm import experiments as E

    for scale in ("smoke", "full"):
        planned = {p.key[:2] for p in E.plan(scale)}
        for task in E.TASKS:
            assert {(task, label) for label in E.budget_labels(task, scale)} <= planned, (scale, task)
        for task in E.LEARNED_MEMORY_SEEDS:
            assert {(task, label) for label in E.learned_labels(task, scale)} <= planned, (scale, task)
        assert {(task, E.LOWER_RATE) for task in E.LOWER_RATE_SEEDS} <= planned
    assert E.budget_labels("copy", "full") == ["NTM", "LSTM", "LSTM, 32,000 updates"]
    assert E.budget_labels("ngrams", "full") == ["NTM", "LSTM", "NTM, 8,000 updates", "LSTM, 8,000 updates"]
    long = ["NTM, memory learned, 12,000 updates", "LSTM", "LSTM, 12,000 updates"]
    assert E.learned_labels("priority_sort", "full") == ["NTM", "NTM, memory learned"] + long
    protocol = [E.LEARNED_PAPER_OPTIMISER, "LSTM", E.LSTM_PAPER_OPTIMISER]
    assert E.learned_labels("ngrams", "full") == ["NTM", "NTM, memory learned", E.LEARNED_LOWER_RATE] + protocol
