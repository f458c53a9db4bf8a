"""Max-pooling over 2 x 2 windows and then a ReLU, as one function: the strip reader's encoder runs it
after each convolution.

`max_pool_relu(x)` is F.relu(F.max_pool2d(x, 2)) for x B x C x H x W (any layout; the result keeps
it), with the same values and gradients to the last bit (tests/attention/test_pool.py). On a CPU it
runs attention/pool.cpp, one pass forward and one backward, wherever that file builds (core/native.py):
at the strip reader's shapes torch's two poolings took about a tenth of the training step, most of it
in their backward. Elsewhere, or where it does not build, it runs torch's two calls.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ..core import native

_SOURCE = Path(__file__).with_name("pool.cpp")


def max_pool_relu(x: torch.Tensor, use_native: bool = True) -> torch.Tensor:
    """relu(max_pool2d(x, 2)); use_native: the C++ passes on a CPU where they build (False: torch's)."""
    cpu = x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64) and x.dim() == 4
    lib = native.load(_SOURCE) if use_native and cpu else None
    if lib is None:
        return F.relu(F.max_pool2d(x, 2))
    return _MaxPoolReLU.apply(x, lib)


class MaxPoolReLU(nn.Module):
    """max_pool_relu as a layer (it has no parameters)."""

    def forward(self, x):
        return max_pool_relu(x)


class _MaxPoolReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lib):
        y, where = lib.forward(x)
        ctx.lib, ctx.size = lib, x.shape[2:]
        ctx.save_for_backward(y, where)
        return y

    @staticmethod
    def backward(ctx, dy):
        y, where = ctx.saved_tensors
        return ctx.lib.backward(dy, y, where, *ctx.size), None
