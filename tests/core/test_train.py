import pandas as pd
import pytest
import torch

from augrnn.core import train
from augrnn.core.config import ConfigError
from augrnn.core.update import make_optimizer
from augrnn.soft_lookup.lookup import Lookup, LookupConfig

CFG = LookupConfig(steps=40, batch_size=16, lr=3e-3, log_every=5, checkpoint_every=10, eval_batch=64)


def test_same_seed_same_numbers():
    a = train.fit(Lookup(), CFG, None, progress=False).metrics
    b = train.fit(Lookup(), CFG, None, progress=False).metrics
    pd.testing.assert_frame_equal(train.numbers(a), train.numbers(b))
    c = train.fit(Lookup(), CFG.replace(seed=1), None, progress=False).metrics
    assert not a["loss"].equals(c["loss"])


def test_interrupted_run_resumes_to_the_same_metrics(tmp_path):
    whole = train.fit(Lookup(), CFG, tmp_path / "whole", progress=False)
    with pytest.raises(train.Interrupted):
        train.fit(Lookup(), CFG, tmp_path / "cut", progress=False, stop_at=27)  # last checkpoint: 20
    assert (tmp_path / "cut" / train.CHECKPOINT).exists()
    assert pd.read_csv(tmp_path / "cut" / train.METRICS)["step"].max() == 20
    resumed = train.fit(Lookup(), CFG, tmp_path / "cut", progress=False)
    pd.testing.assert_frame_equal(train.numbers(whole.metrics), train.numbers(resumed.metrics))
    for k, v in whole.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    # finished: the checkpoint is gone, no temporary files are left behind
    assert not (tmp_path / "cut" / train.CHECKPOINT).exists()
    assert not list((tmp_path / "cut").glob("*.tmp"))
    assert resumed.provenance["fingerprint"] == CFG.fingerprint()


def test_checkpoint_of_another_config_is_not_resumed(tmp_path):
    with pytest.raises(train.Interrupted):
        train.fit(Lookup(), CFG, tmp_path, progress=False, stop_at=15)
    other = CFG.replace(lr=1e-3)
    run = train.fit(Lookup(), other, tmp_path, progress=False)
    fresh = train.fit(Lookup(), other, None, progress=False)
    pd.testing.assert_frame_equal(train.numbers(run.metrics), train.numbers(fresh.metrics))


def test_checkpoint_from_before_a_new_config_field_is_resumed(tmp_path):
    # a checkpoint written before a field was added (now at its default): the same experiment, resumed
    with pytest.raises(train.Interrupted):
        train.fit(Lookup(), CFG, tmp_path, progress=False, stop_at=27)
    path = tmp_path / train.CHECKPOINT
    ckpt = torch.load(path, weights_only=False)
    ckpt["fingerprint"], ckpt["config"] = "an older config class's", CFG.to_dict()
    del ckpt["config"]["select_on"]
    ckpt["rows"][0]["loss"] = -1.0  # marks the rows the checkpoint carried
    torch.save(ckpt, path)
    resumed = train.fit(Lookup(), CFG, tmp_path, progress=False)
    assert resumed.metrics["loss"].iloc[0] == -1.0 and resumed.metrics["step"].max() == CFG.steps
    whole = train.fit(Lookup(), CFG, None, progress=False).metrics
    pd.testing.assert_frame_equal(train.numbers(whole).iloc[1:], train.numbers(resumed.metrics).iloc[1:])
    # a checkpoint without a config, of another fingerprint, is not resumed
    with pytest.raises(train.Interrupted):
        train.fit(Lookup(), CFG, tmp_path / "old", progress=False, stop_at=27)
    ckpt = torch.load(tmp_path / "old" / train.CHECKPOINT, weights_only=False)
    ckpt["fingerprint"], ckpt["rows"][0]["loss"] = "other", -1.0
    del ckpt["config"]
    torch.save(ckpt, tmp_path / "old" / train.CHECKPOINT)
    assert train.fit(Lookup(), CFG, tmp_path / "old", progress=False).metrics["loss"].iloc[0] != -1.0


def test_finished_run_is_reused_only_for_the_same_fingerprint(tmp_path):
    done = train.fit(Lookup(), CFG, tmp_path, progress=False)
    again = train.load_run(Lookup(), CFG, tmp_path)
    pd.testing.assert_frame_equal(train.numbers(done.metrics), train.numbers(again.metrics))
    assert again.provenance["wall_time_s"] > 0
    assert set(again.provenance) >= {"commit", "config", "seed", "hardware", "versions", "wall_time_s"}
    assert train.load_run(Lookup(), CFG.replace(steps=41), tmp_path) is None


def test_device_auto_falls_back_to_cpu_without_gpu():
    dev = train.pick_device("auto")
    assert dev.type == ("cuda" if torch.cuda.is_available() else "cpu")  # MPS only when asked for
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="device='cuda'"):
            train.pick_device("cuda")
    if not torch.backends.mps.is_available():
        with pytest.raises(RuntimeError, match="device='mps' was asked for but torch sees no Apple GPU"):
            train.pick_device("mps")


def test_checkpointed_random_states_restore_from_either_format():
    from augrnn.core.devices import rng_states, set_rng_states

    cpu = torch.device("cpu")
    torch.manual_seed(5)
    states = rng_states(cpu)
    assert set(states) == {"cpu"}  # on a GPU the device's own state joins it
    first = torch.rand(3)
    set_rng_states(states, cpu)
    assert torch.equal(torch.rand(3), first)
    set_rng_states(states["cpu"], cpu)  # a checkpoint from before the device states: the bare CPU state
    assert torch.equal(torch.rand(3), first)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_interrupted_gpu_run_with_gradient_noise_resumes_exactly(tmp_path):
    # on a GPU the noise draws from the device's generator, which the checkpoint must restore too
    cfg = CFG.replace(grad_noise=0.01, device="cuda")
    whole = train.fit(Lookup(), cfg, None, progress=False)
    with pytest.raises(train.Interrupted):
        train.fit(Lookup(), cfg, tmp_path, progress=False, stop_at=33)
    resumed = train.fit(Lookup(), cfg, tmp_path, progress=False)
    pd.testing.assert_frame_equal(train.numbers(whole.metrics), train.numbers(resumed.metrics))


class Compiling(Lookup):
    """A lookup experiment that notes when `fit` compiles its model."""

    def __init__(self):
        self.compiled = 0

    def compile_model(self, model):
        self.compiled += 1


def test_compile_is_used_where_it_can_run_and_otherwise_the_run_trains_eagerly(monkeypatch, capsys):
    cfg = CFG.replace(steps=5, compile=True, device="cpu")
    monkeypatch.setattr(train, "compile_blocker", lambda device: None)
    exp = Compiling()
    assert train.fit(exp, cfg, None, progress=False).provenance["compiled"] is True and exp.compiled == 1
    monkeypatch.setattr(train, "compile_blocker", lambda device: "no compiler here")
    exp = Compiling()
    run = train.fit(exp, cfg, None, progress=False)
    assert run.provenance["compiled"] is False and exp.compiled == 0
    assert "compile = True: no compiler here; training eagerly" in capsys.readouterr().err
    assert train.fit(Compiling(), CFG, None, progress=False).provenance["compiled"] is False  # not asked for


def test_compile_blocker_names_what_is_missing(monkeypatch):
    import torch._inductor.cpp_builder as cpp_builder

    from augrnn.core import devices

    assert devices.compile_blocker(torch.device("mps")) == "torch.compile is not used on mps"
    monkeypatch.setattr(cpp_builder, "get_cpp_compiler", lambda: "g++")
    assert devices.compile_blocker(torch.device("cpu")) is None

    def missing():
        raise RuntimeError("no working C++ compiler found")

    monkeypatch.setattr(cpp_builder, "get_cpp_compiler", missing)
    assert devices.compile_blocker(torch.device("cpu")) == (
        "torch.compile finds no C++ compiler for its CPU kernels (RuntimeError: no working C++ compiler found)"
    )


def test_warmdown_schedule():
    cfg = LookupConfig(steps=100, lr=1.0, warmdown=0.25)
    assert [train.learning_rate(cfg, s) for s in (0, 74, 75, 87.5, 99)] == [1.0, 1.0, 1.0, 0.5, 0.04]
    assert train.learning_rate(cfg.replace(warmdown=0.0), 99) == 1.0


def test_interrupted_run_with_warmdown_and_gradient_noise_resumes_exactly(tmp_path):
    cfg = CFG.replace(warmdown=0.5, grad_noise=0.01)  # noise draws from the checkpointed RNG
    whole = train.fit(Lookup(), cfg, None, progress=False)
    with pytest.raises(train.Interrupted):
        train.fit(Lookup(), cfg, tmp_path, progress=False, stop_at=33)
    pd.testing.assert_frame_equal(
        train.numbers(whole.metrics), train.numbers(train.fit(Lookup(), cfg, tmp_path, progress=False).metrics)
    )


def test_stored_run_is_reused_after_a_config_gains_a_field_at_its_default(tmp_path):
    import json

    done = train.fit(Lookup(), CFG, tmp_path, progress=False)
    record = json.loads((tmp_path / train.PROVENANCE).read_text())
    del record["config"]["grad_noise"]  # as if the run predates the field
    record["fingerprint"] = "from-an-older-version"
    (tmp_path / train.PROVENANCE).write_text(json.dumps(record))
    again = train.load_run(Lookup(), CFG, tmp_path)
    pd.testing.assert_frame_equal(train.numbers(done.metrics), train.numbers(again.metrics))
    assert train.load_run(Lookup(), CFG.replace(grad_noise=0.1), tmp_path) is None
    assert train.load_run(Lookup(), CFG.replace(lr=0.5), tmp_path) is None
    assert train.load_run(Lookup(), CFG.replace(device="cpu", checkpoint_every=3), tmp_path) is not None


def test_commit_is_dirty_for_code_changes_but_not_for_replaced_results(tmp_path):
    import subprocess

    from augrnn.core import provenance

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "src").mkdir()
    (tmp_path / "data" / "results" / "ch" / "run").mkdir(parents=True)
    (tmp_path / "src" / "model.py").write_text("x = 1\n")
    (tmp_path / "data" / "results" / "ch" / "run" / "metrics.csv").write_text("step\n1\n")
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    assert not provenance.git_commit(tmp_path).endswith("-dirty")
    (tmp_path / "data" / "results" / "ch" / "run" / "metrics.csv").unlink()  # what a retrain does first
    assert not provenance.git_commit(tmp_path).endswith("-dirty")
    (tmp_path / "src" / "model.py").write_text("x = 2\n")
    assert provenance.git_commit(tmp_path).endswith("-dirty")


def test_models_are_stored_compressed_and_both_forms_load(tmp_path):
    from augrnn.core import io

    state = {"w": torch.randn(50, 50), "b": torch.arange(5)}
    io.save_torch(tmp_path / "plain.pt", state)
    io.save_torch(tmp_path / "small.pt", state, compress=True)
    assert (tmp_path / "small.pt").read_bytes()[:2] == b"\x1f\x8b"
    for name in ("plain.pt", "small.pt"):
        back = io.load_torch(tmp_path / name, weights_only=True)
        assert torch.equal(back["w"], state["w"]) and torch.equal(back["b"], state["b"])


def test_per_device_constants_are_made_once_per_device():
    import torch

    from augrnn.core.devices import per_device

    calls = []

    @per_device
    def table(n):
        calls.append(n)
        return {"x": torch.arange(n), "n": n}

    a, b = table(3, "cpu"), table(3, torch.device("cpu"))
    assert a is b and calls == [3] and a["x"].device.type == "cpu"
    assert table(4, "cpu")["n"] == 4 and calls == [3, 4]


def test_value_clipping_bounds_every_gradient_component():
    import torch

    seen = []

    class Spy(Lookup):
        def loss(self, model, b, cfg):
            loss, m = super().loss(model, b, cfg)
            return loss * 1e6, m  # gradients far beyond the clip

    cfg = CFG.replace(steps=1, clip=0.5, clip_mode="value", log_every=1, lr=1e-3)
    run = train.fit(Spy(), cfg, None, progress=False)
    for p in run.model.parameters():
        if p.grad is not None:
            seen.append(float(p.grad.abs().max()))
    assert seen and max(seen) <= 0.5 + 1e-6
    assert torch.isfinite(torch.tensor(seen)).all()


class NoWeights(Lookup):
    """A lookup experiment whose runs keep an evaluation instead of their weights."""

    def evaluations(self, model, cfg):
        return {"first_weight": float(next(model.parameters()).flatten()[0])}


def test_a_run_without_weights_stores_and_reloads_its_evaluations_not_its_model(tmp_path):
    cfg = CFG.replace(keep_weights=False)
    assert cfg.fingerprint() == CFG.fingerprint()  # the same numbers: only what is kept differs
    done = train.fit(NoWeights(), cfg, tmp_path, progress=False)
    kept = train.fit(Lookup(), CFG, None, progress=False)
    assert done.model is None and not (tmp_path / train.MODEL).exists()
    assert done.evaluations == {"first_weight": float(next(kept.model.parameters()).flatten()[0])}
    again = train.load_run(NoWeights(), cfg, tmp_path)
    assert again.model is None and again.evaluations == done.evaluations
    assert train.load_run(NoWeights(), CFG, tmp_path) is None  # a run that wants weights finds none
    with pytest.raises(ConfigError, match="keep_weights = False needs an experiment with `evaluations`"):
        train.fit(Lookup(), cfg, None, progress=False)


class Selecting(Lookup):
    selectable = ("test_slot_accuracy",)


def test_model_selection_keeps_the_best_logged_model_and_resumes_exactly(tmp_path):
    cfg = CFG.replace(select_on="test_slot_accuracy")
    whole = train.fit(Selecting(), cfg, tmp_path / "whole", progress=False)
    scores = whole.metrics["test_slot_accuracy"]
    chosen = whole.provenance["selected"]
    assert chosen["step"] == int(whole.metrics["step"][scores.idxmax()]) and chosen["value"] == scores.max()
    device = next(whole.model.parameters()).device  # the run's (a GPU's where there is one)
    assert Selecting().evaluate(whole.model, cfg, device)["test_slot_accuracy"] == scores.max()  # the stored model
    assert (
        whole.final()["step"] == chosen["step"] and train.fit(Lookup(), CFG, None, progress=False).final()["step"] == 40
    )
    with pytest.raises(train.Interrupted):
        train.fit(Selecting(), cfg, tmp_path / "cut", progress=False, stop_at=27)
    resumed = train.fit(Selecting(), cfg, tmp_path / "cut", progress=False)
    assert resumed.provenance["selected"] == chosen
    for k, v in whole.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    with pytest.raises(ConfigError, match="select_on = 'test_exact' is not allowed for Selecting"):
        train.fit(Selecting(), CFG.replace(select_on="test_exact"), None, progress=False)


class _Seen(Lookup):
    """Lookup that keeps its starting weights and every training batch."""

    def __init__(self):
        self.batches, self.weights = [], None

    def build_model(self, cfg):
        model = super().build_model(cfg)
        self.weights = [p.detach().clone() for p in model.parameters()]
        return model

    def batch(self, cfg, step, g, device):
        self.batches.append(super().batch(cfg, step, g, device))
        return self.batches[-1]


def test_data_seed_trains_one_seeds_starting_weights_on_another_seeds_batches():
    cfg = CFG.replace(steps=6, log_every=3)
    runs = {}
    for seed, data_seed in ((0, -1), (1, -1), (0, 1), (0, 0)):
        runs[seed, data_seed] = seen = _Seen()
        train.fit(seen, cfg.replace(seed=seed, data_seed=data_seed), None, progress=False)
    same = lambda a, b: all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    batches = lambda r: [t for b in r.batches for t in b.values() if isinstance(t, torch.Tensor)]
    assert same(runs[0, 1].weights, runs[0, -1].weights) and not same(runs[0, 1].weights, runs[1, -1].weights)
    assert same(batches(runs[0, 1]), batches(runs[1, -1])) and not same(batches(runs[0, 1]), batches(runs[0, -1]))
    assert same(batches(runs[0, 0]), batches(runs[0, -1]))


def test_smoke_runs_train_afresh_unless_the_environment_asks_to_reuse_them(tmp_path, monkeypatch):
    from augrnn.core.experiment import Planned
    from augrnn.core.runs import run, run_dir

    monkeypatch.setenv("AUGRNN_ROOT", str(tmp_path))
    planned = Planned("lookup", "dot-seed0", ("dot", 0), Lookup(), CFG)
    first = run(planned, "smoke", progress=False)
    written = (run_dir("lookup", "dot-seed0", "smoke") / "metrics.csv").stat().st_mtime_ns
    monkeypatch.setenv("AUGRNN_REUSE_SMOKE", "1")
    again = run(planned, "smoke", progress=False)
    assert (run_dir("lookup", "dot-seed0", "smoke") / "metrics.csv").stat().st_mtime_ns == written
    pd.testing.assert_frame_equal(train.numbers(first.metrics), train.numbers(again.metrics))
    monkeypatch.setenv("AUGRNN_REUSE_SMOKE", "0")
    run(planned, "smoke", progress=False)
    assert (run_dir("lookup", "dot-seed0", "smoke") / "metrics.csv").stat().st_mtime_ns != written


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_optimizer_updates_all_parameters_at_once_with_the_per_parameter_loops_numbers(optimizer):
    """make_optimizer's foreach update rule (fewer, larger calls) gives torch's per-parameter loop's
    numbers to the last bit, so runs stored before the change are retrained to the same numbers."""
    cfg = CFG.replace(optimizer=optimizer, lr=1e-2)
    nets = []
    for foreach in (True, False):
        torch.manual_seed(0)
        net = torch.nn.LSTM(5, 7, num_layers=2)
        start = [p.detach().clone() for p in net.parameters()]
        opt = make_optimizer(cfg, net.parameters())
        assert opt.defaults["foreach"] is True
        if not foreach:  # the same optimiser with torch's CPU default, the loop over parameters
            opt = type(opt)(net.parameters(), **{**opt.defaults, "foreach": False})
        g = torch.Generator().manual_seed(1)
        for _ in range(30):
            out, _ = net(torch.randn(4, 3, 5, generator=g))
            opt.zero_grad()
            out.pow(2).sum().backward()
            opt.step()
        nets.append(net)
    for a, b, s in zip(nets[0].parameters(), nets[1].parameters(), start):
        assert torch.equal(a, b)
        assert not torch.equal(a, s)  # trained
