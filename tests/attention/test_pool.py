"""attention/pool.py's max_pool_relu against torch's F.relu(F.max_pool2d(x, 2)): values, gradients
and layouts to the last bit, in C++ and in the fallback."""

import pytest
import torch
from torch.nn import functional as F

from augrnn.attention.pool import _SOURCE, max_pool_relu
from augrnn.core import native


def bits(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous().view(torch.int32 if t.dtype == torch.float32 else torch.int64)


def awkward(dtype) -> torch.Tensor:
    """4 x 3 x 8 x 10 values with windows that tie above zero, at zero, at -0.0, hold a NaN or -inf."""
    x = torch.randn(4, 3, 8, 10, generator=torch.Generator().manual_seed(0), dtype=dtype)
    x[0, 0, :4, :4] = 1.5  # ties above zero: the first of a window's largest values wins
    x[0, 1, :2, :2] = torch.tensor([[0.5, 2.0], [2.0, 0.1]], dtype=dtype)
    x[1, 0, :4, :4] = 0.0
    x[1, 1, 2:4, 2:4] = -0.0
    x[2, 0, 0, 0] = float("nan")
    x[2, 0, 2, 3] = x[2, 0, 3, 2] = float("nan")  # two NaNs in one window: the last wins
    x[3, 2, :2, :2] = float("-inf")
    return x


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "transposed", "odd"])
@pytest.mark.parametrize("use_native", [True, False])
def test_max_pool_relu_gives_torchs_values_and_gradients_to_the_last_bit(dtype, layout, use_native):
    x = awkward(dtype)
    if layout == "channels_last":
        x = x.to(memory_format=torch.channels_last)
    elif layout == "transposed":
        x = x.transpose(2, 3)  # neither layout: the strides are read as they are
    elif layout == "odd":
        x = x[:, :, :7, :9]  # a last row and column that no window covers get gradient 0
    ours_in, theirs_in = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours, theirs = max_pool_relu(ours_in, use_native), F.relu(F.max_pool2d(theirs_in, 2))
    g = torch.randn(theirs.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    g[0, 1, 0, 0] = -0.0  # a winner's gradient of -0.0 arrives as +0.0 (added to a zero)
    ours.backward(g)
    theirs.backward(g)
    assert torch.equal(bits(ours), bits(theirs)) and ours.stride() == theirs.stride()
    assert torch.equal(bits(ours_in.grad), bits(theirs_in.grad)) and ours_in.grad.stride() == theirs_in.grad.stride()
    if layout != "transposed":  # the cases the comments above describe, as torch has them
        assert ours_in.grad[0, 0, :2, :2].tolist() == [[g[0, 0, 0, 0].item(), 0.0], [0.0, 0.0]]
        assert bits(ours_in.grad[0, 1, 0, 1]).item() == 0 and ours_in.grad[2, 0, 3, 2] == g[2, 0, 1, 1]


def test_the_cpp_passes_build_here():
    """The C++ file builds on this machine, so the test above checked it, not only the fallback."""
    assert native.load(_SOURCE) is not None
