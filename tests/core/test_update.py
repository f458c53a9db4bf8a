"""The update over one flat buffer (core/update.py) against torch's own per-parameter calls, the code
fit ran before: the same parameters and optimiser states to the last bit."""

import copy

import pytest
import torch
from torch import nn

from augrnn.core.config import TrainConfig
from augrnn.core.update import Update, make_optimizer


class Net(nn.Module):
    """A convolution with channels-last weights, an LSTM and two output layers, `extra` used only at
    the steps `uses` says."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3).to(memory_format=torch.channels_last)
        self.lstm = nn.LSTM(5, 7)
        self.out = nn.Linear(7, 3)
        self.extra = nn.Linear(7, 3)

    def forward(self, x, extra: bool):
        y = self.conv(x.contiguous(memory_format=torch.channels_last)).mean((2, 3))
        h, _ = self.lstm(y.unsqueeze(0))
        o = self.out(h[0])
        if extra:
            o = o + self.extra(h[0])
        return o.pow(2).sum()


def reference_step(cfg, net, opt, t):
    """What fit did before core/update.py, step for step."""
    if cfg.clip > 0 and cfg.clip_mode == "value":
        nn.utils.clip_grad_value_(net.parameters(), cfg.clip)
    elif cfg.clip > 0:
        nn.utils.clip_grad_norm_(net.parameters(), cfg.clip)
    if cfg.grad_noise:
        std = (cfg.grad_noise / (1 + t) ** 0.55) ** 0.5
        for p in net.parameters():
            if p.grad is not None:
                p.grad.add_(torch.randn_like(p.grad) * std)
    opt.step()


def train(cfg, flat, uses, steps=12, start=None):
    """(net, update or optimiser) after `steps` steps; `start`: an optimiser state_dict to begin from."""
    torch.manual_seed(0)
    net = Net()
    if flat is None:
        opt = make_optimizer(cfg, net.parameters())
    else:
        opt = Update(cfg, net.parameters(), flat=flat)
    if start is not None:
        opt.load_state_dict(copy.deepcopy(start))  # torch's optimisers adopt the tensors they load
    g = torch.Generator().manual_seed(1)
    for t in range(steps):
        loss = net(torch.randn(4, 3, 6, 6, generator=g), extra=uses(t))
        opt.zero_grad()
        loss.backward()
        if flat is None:
            reference_step(cfg, net, opt, t)
        else:
            opt.step(t)
    return net, opt


def always(t):
    return True


def same_states(a: dict, b: dict):
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for i in a["state"]:
        assert a["state"][i].keys() == b["state"][i].keys()
        for k, v in a["state"][i].items():
            assert torch.equal(v, b["state"][i][k]), (i, k)


SETTINGS = [
    dict(optimizer="adam", clip=0.05),  # the norm clipping acts at every step
    dict(optimizer="adam", clip=1e-3, clip_mode="value"),
    dict(optimizer="adam", clip=0.0, grad_noise=1e-3),
    dict(optimizer="rmsprop", clip=0.05, grad_noise=1e-3),
    dict(optimizer="rmsprop", clip=100.0),  # no clipping
]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
@pytest.mark.parametrize(
    "uses",
    [always, lambda t: t < 5 or t % 2 == 0, lambda t: t % 3 == 1],
    ids=["every step", "from step 5 some steps", "from step 0 some steps"],
)
def test_flat_update_gives_torchs_per_parameter_numbers(setting, uses):
    cfg = TrainConfig(lr=1e-2, **setting)
    ref, ref_opt = train(cfg, None, uses)
    net, update = train(cfg, True, uses)
    assert (update.flat is not None) == (uses is always)  # a step without a gradient ends the flat form
    for (name, a), b in zip(ref.named_parameters(), net.parameters()):
        assert torch.equal(a, b), name
        assert a.stride() == b.stride(), name  # the channels-last weights keep their layout
    same_states(ref_opt.state_dict(), update.state_dict())


def test_parameters_share_one_buffer_on_the_cpu_and_grads_show_the_clipped_gradient():
    cfg = TrainConfig(lr=1e-2, clip=0.05)
    net, update = train(cfg, True, always, steps=2)
    assert Update(cfg, Net().parameters()).flat is not None  # flat by default on the CPU
    ptrs = {p.untyped_storage().data_ptr() for p in net.parameters()}
    assert ptrs == {update.flat.param.untyped_storage().data_ptr()}
    total = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in net.parameters()]))
    assert total <= 0.05 * (1 + 1e-5)  # the gradients each parameter shows are the clipped ones
    assert Update(cfg, Net().parameters(), flat=False).flat is None


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_a_checkpoint_is_the_same_whichever_form_wrote_it(optimizer):
    cfg = TrainConfig(lr=1e-2, clip=0.05, optimizer=optimizer)
    _, ref_opt = train(cfg, None, always, steps=5)
    _, update = train(cfg, True, always, steps=5)
    same_states(ref_opt.state_dict(), update.state_dict())
    # a flat update resumes from torch's own state_dict (and the reverse) to the same numbers
    a, a_opt = train(cfg, None, always, steps=7, start=ref_opt.state_dict())
    b, b_opt = train(cfg, True, always, steps=7, start=ref_opt.state_dict())
    c, _ = train(cfg, None, always, steps=7, start=update.state_dict())
    assert b_opt.flat is not None
    for x, y, z in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(x, y) and torch.equal(x, z)
    same_states(a_opt.state_dict(), b_opt.state_dict())


def test_a_state_without_some_parameters_is_loaded_one_tensor_per_parameter():
    cfg = TrainConfig(lr=1e-2, clip=0.05)
    _, ref_opt = train(cfg, None, lambda t: False, steps=3)  # `extra` never had a gradient
    assert len(ref_opt.state_dict()["state"]) < len(list(Net().parameters()))
    a, _ = train(cfg, None, always, steps=4, start=ref_opt.state_dict())
    b, b_update = train(cfg, True, always, steps=4, start=ref_opt.state_dict())
    assert b_update.flat is None
    for x, y in zip(a.parameters(), b.parameters()):
        assert torch.equal(x, y)
