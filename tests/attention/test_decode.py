"""The hand-written backward pass of the soft additive decoder's steps (attention/decode.py) against
autograd on the loop and finite differences, and its C++ loops (attention/decode.cpp) against its
Python ones."""

import pytest
import torch

from augrnn.attention import decode as decode_module
from augrnn.attention.decode import decode
from augrnn.attention.seq2seq import Decoder, Encoded
from augrnn.core import native

B, N, E, D, H, A = 5, 7, 4, 8, 6, 5


def _mask():
    mask = torch.ones(B, N, dtype=torch.bool)
    mask[1, 4:] = False
    mask[3, 2:] = False
    return mask


def _run_decoder(dtype, fused, lengths, soft_mask=True):
    """A decoder's logits, weights and every gradient (its parameters', the annotations' and the
    summary's) under a loss that reads the logits and the weights."""
    torch.manual_seed(0)
    dec = Decoder(11, D, embed=E, hidden=H, attention="additive").to(dtype)
    dec.fused = fused
    ann = torch.randn(B, N, D, dtype=dtype, requires_grad=True)
    summary = torch.randn(B, D, dtype=dtype, requires_grad=True)
    mask = _mask()
    if not soft_mask:
        mask[2] = False  # a row with no real slot: the loop's guard, not decode, handles it
    out = dec(Encoded(ann, mask, summary), torch.randint(0, 11, (B, 6)), lengths=lengths)
    g = torch.Generator().manual_seed(1)
    loss = (out.logits * torch.randn(out.logits.shape, generator=g, dtype=dtype)).sum()
    (loss + (out.weights * torch.randn(out.weights.shape, generator=g, dtype=dtype)).sum()).backward()
    return out, [p.grad for p in dec.parameters()] + [ann.grad, summary.grad]


@pytest.mark.parametrize("lengths", [None, [6, 3, 5, 1, 6]])
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_the_decoders_numbers_equal_autograd_on_the_loop(lengths, dtype, tol):
    """The same logits and weights to the last bit; every gradient to float tolerance."""
    fused, loop = _run_decoder(dtype, True, lengths), _run_decoder(dtype, False, lengths)
    assert torch.equal(fused[0].logits, loop[0].logits) and torch.equal(fused[0].weights, loop[0].weights)
    assert len(fused[1]) == len(loop[1]) == 15  # 13 parameters, the annotations, the summary
    for a, b in zip(fused[1], loop[1]):
        assert torch.allclose(a, b, rtol=tol, atol=tol)


def test_a_row_with_no_real_slot_runs_the_loop_without_nan():
    out, grads = _run_decoder(torch.float64, True, None, soft_mask=False)
    assert torch.isfinite(out.logits).all() and all(torch.isfinite(g).all() for g in grads)
    assert (out.weights[2] == 0).all()


def _inputs(dtype, sizes, seed=0):
    g = torch.Generator().manual_seed(seed)
    make = lambda *shape: torch.randn(*shape, generator=g, dtype=dtype).requires_grad_()
    attention = [make(sum(sizes), E), make(B, H), make(B, N, A), make(B, N, D), _mask(), make(A, H), make(A)]
    return attention + [make(3 * H, E + D), make(3 * H, H), make(3 * H), make(3 * H)]  # the GRU cell's


def test_finite_differences():
    """decode's gradients against finite differences (float64), with sequences ending at different steps
    and a row with no step at all."""
    args = _inputs(torch.float64, [4, 4, 3, 1])
    f = lambda *a: decode(*a[:4], args[4], *a[4:], [4, 4, 3, 1], use_native=False)
    assert torch.autograd.gradcheck(f, [a for a in args if a.dtype != torch.bool])


def _decode_both(dtype, sizes, outputs):
    """decode's outputs and gradients with the C++ loops and with the Python ones, under a loss that
    reads the outputs named by `outputs` (a subset of states, contexts, weights)."""
    assert native.load(decode_module._SOURCE) is not None, "decode.cpp did not build"
    args = _inputs(dtype, sizes)
    results = []
    for use_native in (True, False):
        for a in args:
            a.grad = None
        out = decode(*args, sizes, use_native=use_native)
        g = torch.Generator().manual_seed(1)
        loss = sum(
            (x * torch.randn(x.shape, generator=g, dtype=dtype)).sum() for x, name in zip(out, "scw") if name in outputs
        )
        loss.backward()
        results.append(list(out) + [a.grad for a in args if a.dtype != torch.bool])
    return results


@pytest.mark.parametrize("outputs", ["scw", "s", "cw"])
@pytest.mark.parametrize("sizes", [[5, 5, 4, 2, 2, 1], [5, 5, 5], [3, 3, 1]])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_cpp_loops_give_the_python_loops_numbers_to_the_last_bit(dtype, sizes, outputs):
    cpp, python = _decode_both(dtype, sizes, outputs)
    assert len(cpp) == len(python) == 13
    for a, b in zip(cpp, python):
        assert torch.equal(a, b)
