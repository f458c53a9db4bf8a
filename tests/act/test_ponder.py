"""The hand-written backward pass of ACT's inner steps (act/ponder.py) against autograd on the loop."""

import pytest
import torch
from torch import nn

from augrnn.act.mechanism import ACTCell, halting_weights
from augrnn.act.ponder import ponder


def _cell(kind, dtype):
    torch.manual_seed(3)
    cell = nn.RNNCell(5, 8) if kind == "rnn" else nn.LSTMCell(5, 8)
    act = ACTCell(cell, 8, max_steps=7, halt_bias=-2.0).to(dtype)
    with torch.no_grad():
        act.halt.weight.mul_(6)  # halting values that differ from sample to sample
    return act


def _loop(act, x, state):
    """ACTCell.forward with the inner steps recorded by autograd (its loop for any other cell)."""
    single = not isinstance(state, tuple)
    states, halts = act._ponder_loop(x, (state,) if single else state, single)
    p, steps, remainder = halting_weights(halts, act.eps)
    mean = tuple((p.unsqueeze(-1) * part).sum(1) for part in states)
    return (mean[0] if single else mean), steps + remainder, {"h": halts, "p": p, "steps": steps}


def _run(forward, act, kind, dtype):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(16, 4, generator=g, dtype=dtype) * 2).requires_grad_()
    h0 = torch.randn(16, 8, generator=g, dtype=dtype).requires_grad_()
    c0 = torch.randn(16, 8, generator=g, dtype=dtype).requires_grad_()
    act.zero_grad()
    state, ponder_cost, info = forward(act, x, h0 if kind == "rnn" else (h0, c0))
    h = state if kind == "rnn" else state[0]
    extra = 0 if kind == "rnn" else state[1].cos().sum()
    (h.sin().sum() + extra + 0.3 * ponder_cost.sum()).backward()
    inputs = [x, h0] if kind == "rnn" else [x, h0, c0]
    grads = [p.grad.clone() for p in act.parameters()] + [t.grad.clone() for t in inputs]
    return state, ponder_cost.detach(), info, grads


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_the_same_forward_to_the_last_bit(kind):
    act = _cell(kind, torch.float32)
    fast, loop = _run(ACTCell.forward, act, kind, torch.float32), _run(_loop, act, kind, torch.float32)
    steps = fast[2]["steps"]
    assert len(set(steps.tolist())) > 3 and steps.max() == 7  # various halting steps, some at the cap
    for a, b in zip(fast[:2], loop[:2]):
        assert all(torch.equal(u, v) for u, v in zip(torch.atleast_1d(a), torch.atleast_1d(b)))
    assert torch.equal(fast[2]["h"], loop[2]["h"]) and torch.equal(fast[2]["p"], loop[2]["p"])


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_gradients_equal_autograd_on_the_loop(kind, dtype, tol):
    """Every parameter's gradient and the input's and initial state's, through the states, the
    halting values and the ponder cost."""
    act = _cell(kind, dtype)
    fast, loop = _run(ACTCell.forward, act, kind, dtype), _run(_loop, act, kind, dtype)
    assert len(fast[3]) == len(loop[3])
    for a, b in zip(fast[3], loop[3]):
        assert a.abs().max() > 0 or b.abs().max() == 0
        assert torch.allclose(a, b, rtol=tol, atol=tol), (a - b).abs().max()


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_gradcheck_against_finite_differences(kind):
    """The backward against central differences of the forward itself (float64; the halting steps do
    not move under the small perturbations)."""
    g = torch.Generator().manual_seed(1)
    B, H = 5, 3
    G = H if kind == "rnn" else 4 * H

    def rand(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).requires_grad_()

    args = [rand(B, G), rand(B, G), rand(B, H), rand(B, H) if kind == "lstm" else None, rand(G, H, scale=0.5)]
    args += [rand(1, H, scale=2.0), torch.tensor([-1.0], dtype=torch.float64, requires_grad=True)]
    steps = ponder(*args, 6, 0.01)[2].detach()
    assert steps.shape[1] > 2  # several inner steps

    def f(*a):
        h, c, eta = ponder(*a, 6, 0.01)
        return h, eta, *((c,) if kind == "lstm" else ())

    assert torch.autograd.gradcheck(f, tuple(args), eps=1e-6, atol=1e-7)
