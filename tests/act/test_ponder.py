"""The hand-written backward pass of ACT's LSTM inner steps (act/ponder.py) against autograd on the loop,
and its C++ loops (act/ponder.cpp) against its Python ones."""

from pathlib import Path

import pytest
import torch
from torch import nn

from augrnn.act import ponder as ponder_module
from augrnn.act.mechanism import ACTCell, halting_weights
from augrnn.act.ponder import ponder
from augrnn.core import native


def _cell(dtype):
    torch.manual_seed(3)
    act = ACTCell(nn.LSTMCell(5, 8), 8, max_steps=7, halt_bias=-2.0).to(dtype)
    with torch.no_grad():
        act.halt.weight.mul_(6)  # halting values that differ from sample to sample
    return act


def _loop(act, x, state):
    """ACTCell.forward with the inner steps recorded by autograd (its loop for any other cell)."""
    states, halts = act._ponder_loop(x, state, single=False)
    p, steps, remainder = halting_weights(halts, act.eps)
    mean = tuple((p.unsqueeze(-1) * part).sum(1) for part in states)
    return mean, steps + remainder, {"h": halts, "p": p, "steps": steps}


def _run(forward, act, dtype):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(16, 4, generator=g, dtype=dtype) * 2).requires_grad_()
    h0 = torch.randn(16, 8, generator=g, dtype=dtype).requires_grad_()
    c0 = torch.randn(16, 8, generator=g, dtype=dtype).requires_grad_()
    act.zero_grad()
    state, ponder_cost, info = forward(act, x, (h0, c0))
    (state[0].sin().sum() + state[1].cos().sum() + 0.3 * ponder_cost.sum()).backward()
    grads = [p.grad.clone() for p in act.parameters()] + [t.grad.clone() for t in (x, h0, c0)]
    return state, ponder_cost.detach(), info, grads


def test_the_same_forward_to_the_last_bit():
    act = _cell(torch.float32)
    fast, loop = _run(ACTCell.forward, act, torch.float32), _run(_loop, act, torch.float32)
    steps = fast[2]["steps"]
    assert len(set(steps.tolist())) > 3 and steps.max() == 7  # various halting steps, some at the cap
    for a, b in zip(fast[:2], loop[:2]):
        assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert torch.equal(fast[2]["h"], loop[2]["h"]) and torch.equal(fast[2]["p"], loop[2]["p"])


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_gradients_equal_autograd_on_the_loop(dtype, tol):
    """Every parameter's gradient and the input's and initial state's, through the states, the
    halting values and the ponder cost."""
    act = _cell(dtype)
    fast, loop = _run(ACTCell.forward, act, dtype), _run(_loop, act, dtype)
    assert len(fast[3]) == len(loop[3])
    for a, b in zip(fast[3], loop[3]):
        assert a.abs().max() > 0 or b.abs().max() == 0
        assert torch.allclose(a, b, rtol=tol, atol=tol), (a - b).abs().max()


def test_gradcheck_against_finite_differences():
    """The backward against central differences of the forward itself (float64; the halting steps do
    not move under the small perturbations)."""
    g = torch.Generator().manual_seed(1)
    B, H = 5, 3

    def rand(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).requires_grad_()

    args = [rand(B, 4 * H), rand(B, 4 * H), rand(B, H), rand(B, H), rand(4 * H, H, scale=0.5)]
    args += [rand(1, H, scale=2.0), torch.tensor([-1.0], dtype=torch.float64, requires_grad=True)]
    steps = ponder(*args, 6, 0.01)[2].detach()
    assert steps.shape[1] > 2  # several inner steps

    assert torch.autograd.gradcheck(lambda *a: ponder(*a, 6, 0.01), tuple(args), eps=1e-6, atol=1e-7)


def _ponder_args(dtype, B, H, seed):
    g = torch.Generator().manual_seed(seed)

    def rand(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g, dtype=dtype) * scale).requires_grad_()

    halt_bias = torch.tensor([-1.0], dtype=dtype, requires_grad=True)
    return [
        rand(B, 4 * H),
        rand(B, 4 * H),
        rand(B, H),
        rand(B, H),
        rand(4 * H, H, scale=0.3),
        rand(1, H, scale=2.0),
    ] + [halt_bias]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("B, H, cap", [(16, 8, 7), (64, 37, 12)])
def test_the_cpp_loops_give_the_python_loops_numbers_to_the_last_bit(dtype, B, H, cap):
    """act/ponder.cpp (built here: the test fails where it cannot be) against _Ponder's Python loops:
    states, halting values and every gradient, with samples halting at different inner steps (the C++
    backward's fused arithmetic and its gathers by the samples still running) and some at the cap."""
    assert native.load(Path(ponder_module.__file__).with_name("ponder.cpp")) is not None
    results = []
    for use_native in (False, True):
        args = _ponder_args(dtype, B, H, seed=5)
        h, c, eta = ponder(*args, cap, 0.01, use_native=use_native)
        (h.sin().sum() + c.cos().sum() + (eta * eta).sum()).backward()
        results.append([h.detach(), c.detach(), eta.detach()] + [a.grad for a in args])
    halted_at = (eta.detach().cumsum(-1) < 0.99).sum(-1)
    assert len(set(halted_at.tolist())) > 2 and eta.shape[1] == cap  # samples stop at various steps
    for a, b in zip(*results):
        assert a.abs().max() > 0
        assert torch.equal(a, b), (a - b).abs().max()
