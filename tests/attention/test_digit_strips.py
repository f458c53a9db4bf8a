import pytest
import torch

from augrnn.attention.digit_strips import EOS, DigitStrips, StripConfig, strip_batch
from augrnn.core.config import ConfigError
from augrnn.core.train import Interrupted, fit, numbers
from augrnn.datasets.digits import digit_images


def test_strips_place_digits_side_by_side_and_end_with_eos():
    cfg = StripConfig()
    b = strip_batch(cfg, 4, torch.Generator().manual_seed(0), "cpu", n_digits=3)
    assert b["x"].shape == (4, 1, 8, 24) and b["y"].shape == (4, 4)
    assert torch.all(b["y"][:, -1] == EOS) and torch.all(b["y"][:, :3] < 10)
    tr_x, tr_y, te_x, te_y = digit_images(cfg.test_share)
    # the middle digit of the first strip is one of the training images with that label
    middle = b["x"][0, 0, :, 8:16]
    assert any(torch.equal(middle, img) for img in tr_x[tr_y == b["y"][0, 1]])


def test_test_images_are_never_training_images():
    tr_x, _, te_x, _ = digit_images(0.25)
    train = {tuple(x.flatten().tolist()) for x in tr_x}
    overlap = sum(tuple(x.flatten().tolist()) in train for x in te_x)
    assert overlap <= 5  # the data set itself has a handful of pixel-identical duplicates
    assert len(te_x) == int(1797 * 0.25)


def test_bad_digit_range_is_refused():
    with pytest.raises(ConfigError, match="min_digits = 6 must be <= max_digits = 5"):
        StripConfig(min_digits=6)


def test_reader_attends_over_regions_and_trains_deterministically():
    cfg = StripConfig(steps=6, batch_size=8, log_every=3, eval_size=20, model={"channels": 8, "hidden": 16})
    model = DigitStrips().build_model(cfg)
    b = strip_batch(cfg, 2, torch.Generator().manual_seed(1), "cpu", n_digits=4)
    logits, weights, _ = model(b["x"], b["y"])
    assert logits.shape == (2, 5, 12) and weights.shape == (2, 5, 2 * 8)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 5))
    a = fit(DigitStrips(), cfg, None, progress=False).metrics
    assert numbers(a).equals(numbers(fit(DigitStrips(), cfg, None, progress=False).metrics))


def test_hard_reader_trains_by_reinforce_deterministically_and_resumes_its_baseline(tmp_path):
    cfg = StripConfig(
        steps=6,
        batch_size=8,
        log_every=3,
        eval_size=20,
        checkpoint_every=3,
        model={"channels": 8, "hidden": 16, "read": "hard"},
    )
    b = strip_batch(cfg, 8, torch.Generator().manual_seed(1), "cpu", n_digits=3)
    assert b["noise"].shape == (8, 4, 12) and b["expected"].dtype == torch.bool
    a = fit(DigitStrips(), cfg, None, progress=False)
    assert float(a.model.baseline) < 0  # a running mean of log-likelihoods
    assert {"test_sequence_accuracy", "test_sequence_accuracy_soft_read"} <= set(a.metrics.columns)
    assert numbers(a.metrics).equals(numbers(fit(DigitStrips(), cfg, None, progress=False).metrics))
    # interrupted after the first checkpoint and resumed: the same numbers (the baseline is saved)
    with pytest.raises(Interrupted):
        fit(DigitStrips(), cfg, tmp_path / "run", progress=False, stop_at=3)
    resumed = fit(DigitStrips(), cfg, tmp_path / "run", progress=False)
    assert numbers(resumed.metrics).equals(numbers(a.metrics))


def test_coverage_penalty_is_logged_and_hard_without_attention_is_refused():
    cfg = StripConfig(
        steps=2, batch_size=4, log_every=1, eval_size=10, coverage=1.0, model={"channels": 4, "hidden": 8}
    )
    assert "coverage" in fit(DigitStrips(), cfg, None, progress=False).metrics.columns
    with pytest.raises(ConfigError, match="read = 'hard' needs attention"):
        StripConfig(model={"read": "hard", "attention": "none"})


def test_the_channels_last_encoder_gives_the_default_layouts_loss_and_gradients():
    import copy

    cfg = StripConfig(batch_size=8, model={"channels": 4, "hidden": 8})
    exp = DigitStrips()
    torch.manual_seed(0)
    ours = exp.build_model(cfg)
    plain = copy.deepcopy(ours).to(memory_format=torch.contiguous_format)
    assert ours.conv[3].weight.is_contiguous(memory_format=torch.channels_last)
    assert not plain.conv[3].weight.is_contiguous(memory_format=torch.channels_last)
    b = exp.batch(cfg, 0, torch.Generator().manual_seed(0), torch.device("cpu"))
    losses = [exp.loss(m, b, cfg)[0] for m in (ours, plain)]
    grads = [torch.autograd.grad(loss, list(m.parameters())) for loss, m in zip(losses, (ours, plain))]
    assert torch.allclose(*losses, atol=1e-6)
    assert all(torch.allclose(a, c, atol=1e-5) for a, c in zip(*grads))


def test_pooling_before_the_relu_gives_relu_then_pool_to_the_last_bit():
    """The encoder pools before its ReLUs (cheaper), both in one function (attention/pool.py);
    max(relu(x)) = relu(max(x)), gradients included, against torch's ReLU and then max-pooling."""
    cfg = StripConfig(batch_size=8, model={"channels": 4, "hidden": 8})
    torch.manual_seed(0)
    conv = DigitStrips().build_model(cfg).conv
    assert [type(m).__name__ for m in conv] == ["Conv2d", "MaxPoolReLU", "Identity"] * 2
    x = strip_batch(cfg, 8, torch.Generator().manual_seed(0), torch.device("cpu"))["x"]
    pool, relu = torch.nn.MaxPool2d(2), torch.nn.ReLU()
    relu_first = torch.nn.Sequential(conv[0], relu, pool, conv[3], relu, pool)
    outs = [m(x) for m in (conv, relu_first)]
    g = torch.randn(outs[0].shape, generator=torch.Generator().manual_seed(1))
    grads = [torch.autograd.grad(out, list(conv.parameters()), g) for out in outs]
    assert torch.equal(*outs) and (outs[0] == 0).any()  # some windows with nothing above zero
    assert all(torch.equal(a, c) for a, c in zip(*grads))
