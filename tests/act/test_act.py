import pytest
import torch
from torch import nn

from augrnn.act.mechanism import ACTCell, halting_weights
from augrnn.act.parity import Parity, ParityConfig, parity_batch
from augrnn.core.train import fit, numbers


def test_halting_weights_paper_example():
    p, n, r = halting_weights(torch.tensor([0.3, 0.5, 0.4]), eps=0.01)
    assert torch.allclose(p, torch.tensor([0.3, 0.5, 0.2]))
    assert float(n) == 3 and abs(float(r) - 0.2) < 1e-6


@pytest.mark.parametrize(
    "h, eps, p, n, r",
    [
        ([0.995, 0.5, 0.5], 0.01, [1.0, 0, 0], 1, 1.0),  # halts at once: R = 1, p^1 = R
        ([0.2, 0.785, 0.5], 0.01, [0.2, 0.785, 0.015], 3, 0.015),  # 0.985 < 0.99: one more step ...
        ([0.2, 0.79, 0.5], 0.01, [0.2, 0.8, 0], 2, 0.8),  # ... 0.99 reaches 1 - eps
        ([0.2, 0.785, 0.5], 0.02, [0.2, 0.8, 0], 2, 0.8),  # a larger eps halts earlier
        ([0.1, 0.1, 0.1, 0.1], 0.01, [0.1, 0.1, 0.1, 0.7], 4, 0.7),  # the cap: never reached, halt at K
    ],
)
def test_halting_weights_by_hand(h, eps, p, n, r):
    pw, nn_, rr = halting_weights(torch.tensor(h, dtype=torch.float64), eps)
    assert torch.allclose(pw, torch.tensor(p, dtype=torch.float64))
    assert float(nn_) == n and abs(float(rr) - r) < 1e-9
    assert abs(float(pw.sum()) - 1) < 1e-9


def test_halting_weights_batched():
    h = torch.tensor([[0.3, 0.5, 0.4], [0.1, 0.1, 0.1]])
    p, n, r = halting_weights(h, 0.01)
    assert n.tolist() == [3, 3] and torch.allclose(p.sum(-1), torch.ones(2))
    assert torch.allclose(p[1], torch.tensor([0.1, 0.1, 0.8]))


def test_gradient_reaches_the_halting_values_through_r_not_n():
    h = torch.tensor([0.3, 0.5, 0.4], requires_grad=True)
    p, n, r = halting_weights(h, 0.01)
    (n + r).backward()  # ponder cost
    # R = 1 - h1 - h2: d/dh = -1 for the steps before N, 0 for the halting step itself
    assert torch.allclose(h.grad, torch.tensor([-1.0, -1.0, 0.0]))
    assert not n.requires_grad


def test_gradient_reaches_the_halting_unit_of_a_cell():
    torch.manual_seed(0)
    act = ACTCell(nn.RNNCell(4, 8), 8, max_steps=5, halt_bias=-1.0)
    _, ponder, _ = act(torch.randn(3, 3), torch.zeros(3, 8))
    ponder.sum().backward()
    assert act.halt.weight.grad.abs().sum() > 0 and act.halt.bias.grad.abs() > 0


def test_halted_samples_are_unchanged_while_others_ponder():
    """A sample's output is the same whether its batch-mates stop at once or ponder to the cap."""
    torch.manual_seed(0)
    act = ACTCell(nn.RNNCell(5, 6), 6, max_steps=8, halt_bias=0.0)
    with torch.no_grad():
        act.halt.weight.zero_()
        act.halt.weight[0, 0] = 30.0  # halting depends on the first state unit
    x = torch.zeros(2, 4)
    x[0, 0] = 5.0  # sample 0 drives that unit up: halts at the first step
    x[1, 0] = -5.0  # sample 1 drives it down: ponders to the cap
    with torch.no_grad():
        act.cell.weight_ih.zero_()
        act.cell.weight_ih[0, 0] = 1.0
        both, ponder, info = act(x, torch.zeros(2, 6))
        alone, _, info_alone = act(x[:1], torch.zeros(1, 6))
    assert info["steps"].tolist() == [1, 8] and info_alone["steps"].tolist() == [1]
    assert torch.equal(both[0], alone[0])
    assert torch.all(info["p"][0, 1:] == 0)


def test_a_batch_gives_each_sample_its_own_numbers_and_gradients():
    """Only the samples still pondering run the cell; the batch's outputs and gradients are those of
    each sample run alone (summed), whatever its batch-mates ponder."""
    torch.manual_seed(1)
    act = ACTCell(nn.LSTMCell(4, 7), 7, max_steps=10, halt_bias=-1.5)
    x, s0 = torch.randn(6, 3) * 3, (torch.randn(6, 7), torch.randn(6, 7))
    with torch.no_grad():
        act.halt.weight.mul_(5)  # halting values that differ from sample to sample

    def run(rows):
        act.zero_grad()
        (h, _), ponder, info = act(x[rows], (s0[0][rows], s0[1][rows]))
        (h.sin().sum() + ponder.sum()).backward()
        return h.detach(), info["steps"], [p.grad.clone() for p in act.parameters()]

    h, steps, grads = run(slice(None))
    assert len(set(steps.tolist())) > 2  # the samples ponder for different numbers of steps
    alone = [run(slice(i, i + 1)) for i in range(6)]
    assert torch.allclose(h, torch.cat([a[0] for a in alone]), atol=1e-5)
    assert torch.equal(steps, torch.cat([a[1] for a in alone]))
    for k, g in enumerate(grads):
        assert torch.allclose(g, sum(a[2][k] for a in alone), atol=1e-4)


@pytest.mark.parametrize("layout", ["random", "prefix"])
def test_parity_generator_agrees_with_a_plain_count(layout):
    cfg = ParityConfig(bits=10, layout=layout)
    b = parity_batch(cfg, 500, torch.Generator().manual_seed(0), "cpu")
    for x, y, k in zip(b["x"], b["y"], b["nonzero"]):
        assert int((x != 0).sum()) == int(k) and 1 <= int(k) <= 10
        assert float(y) == sum(1 for v in x.tolist() if v == 1) % 2
        if layout == "prefix":  # the first k elements, and only they
            assert bool((x[: int(k)] != 0).all()) and bool((x[int(k) :] == 0).all())
    positions = (b["x"] != 0).float().mean(0)  # random: every position as often; prefix: the first most
    assert (positions.max() - positions.min() < 0.15) == (layout == "random")


def test_parity_training_is_deterministic_and_ponders():
    cfg = ParityConfig(bits=8, model={"hidden": 16}, steps=30, batch_size=32, log_every=10, eval_size=64)
    a = fit(Parity(), cfg, None, progress=False).metrics
    b = fit(Parity(), cfg, None, progress=False).metrics
    assert numbers(a).equals(numbers(b))
    assert (a["ponder"] >= 1).all()
    none = fit(Parity(), cfg.replace(model={"act": "none"}), None, progress=False).metrics
    assert (none["ponder"] == 1).all()


class _Opaque(nn.Module):
    """A cell ACTCell does not recognise: it gets the concatenated input at every inner step."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x, state):
        return self.cell(x, state)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_precomputed_input_share_matches_the_cell_itself(kind):
    """The fast path (input's pre-activations once per input) gives the cell's own numbers and gradients."""
    torch.manual_seed(0)
    cell = nn.RNNCell(6, 9) if kind == "rnn" else nn.LSTMCell(6, 9)
    fast = ACTCell(cell, 9, max_steps=6, halt_bias=-1.0)
    slow = ACTCell(_Opaque(cell), 9, max_steps=6, halt_bias=-1.0)
    slow.halt = fast.halt  # the same halting unit
    x = torch.randn(4, 5)
    s0 = torch.randn(4, 9) if kind == "rnn" else (torch.randn(4, 9), torch.randn(4, 9))
    results = []
    for act in (fast, slow):
        act.zero_grad()
        state, ponder, info = act(x, s0)
        h = state if kind == "rnn" else state[0]
        (h.square().sum() + ponder.sum()).backward()
        results.append((h.detach(), ponder.detach(), info["steps"], [p.grad.clone() for p in fast.parameters()]))
    (h1, p1, n1, g1), (h2, p2, n2, g2) = results
    assert torch.equal(n1, n2) and n1.max() > 1  # several inner steps were taken
    assert torch.allclose(h1, h2, atol=1e-5) and torch.allclose(p1, p2, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(g1, g2))
