"""torch.compile for the training step of a model whose whole forward is one fixed-shape graph.

A model's `forward` is replaced, on that model only, by one that runs a compiled copy while the
model trains with gradients on, and the eager forward otherwise: evaluation batches have other sizes
and would each cost a compilation, and tracing code (attention maps, analyses) wants the eager code.
The compiled forward gives the eager numbers to float tolerance (the test
tests/programmer/test_programmer_compile.py checks losses and gradients); on a CPU it saves the
per-operation overhead of small recurrent models.
"""

from __future__ import annotations

import types

import torch
import torch._dynamo
from torch import nn


def _forward(self, *args, **kwargs):
    if self.training and torch.is_grad_enabled():
        # Dynamo leaves nn.RNN / nn.GRU / nn.LSTM to eager (a graph break) unless told it may trace them;
        # traced, the question encoders of the Neural Programmer fuse with the rest of the step.
        with torch._dynamo.config.patch(allow_rnn=True):
            return self._compiled_forward(self, *args, **kwargs)
    return type(self).forward(self, *args, **kwargs)


def compile_training_forward(model: nn.Module) -> None:
    """Make `model(...)` run a compiled forward in training (see the module's docstring). Shapes are
    static: a training batch with new shapes compiles once more (dynamo's recompile limit applies)."""
    model._compiled_forward = torch.compile(type(model).forward, dynamic=False)
    model.forward = types.MethodType(_forward, model)
