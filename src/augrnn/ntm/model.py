"""The Neural Turing Machine (Graves et al. 2014, section 3) and the paper's LSTM baseline.

`NTM` composes the addressing of `augrnn.ntm.addressing` and the memory access of
`augrnn.ntm.memory` with a controller: `NTM(cfg.model, inputs, outputs)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import Config, ConfigError, bounded, choice
from .addressing import address
from .memory import read, write


@dataclass(frozen=True)
class NTMModelConfig(Config):
    """The model of an NTM experiment: the NTM itself or the paper's LSTM baseline."""

    kind: str = choice("ntm", ("ntm", "lstm"))
    controller: str = choice("lstm", ("lstm", "feedforward"))
    hidden: int = bounded(100, 1, 4096)
    locations: int = bounded(128, 2, 4096)
    width: int = bounded(20, 1, 1024)
    read_heads: int = bounded(1, 1, 16)
    write_heads: int = bounded(1, 1, 16)
    shifts: int = choice(3, (1, 3, 5, 7))  # allowed offsets: 3 -> -1, 0, +1
    memory_init: str = choice("constant", ("constant", "learned", "random"))  # Collier & Beel 2018
    lstm_hidden: int = bounded(256, 1, 4096)  # the baseline: lstm_layers x lstm_hidden
    lstm_layers: int = bounded(3, 1, 8)

    def __post_init__(self):
        super().__post_init__()
        if self.shifts > self.locations:
            raise ConfigError(f"NTMModelConfig.shifts = {self.shifts} must be <= locations = {self.locations}")


def build(cfg: NTMModelConfig, inputs: int, outputs: int) -> nn.Module:
    """The model a config describes, for a task with these input and output channels."""
    if cfg.kind == "lstm":
        return LSTMBaseline(inputs, outputs, cfg.lstm_hidden, cfg.lstm_layers)
    return NTM(cfg, inputs, outputs)


class NTM(nn.Module):
    """An NTM with an LSTM or feedforward controller and any number of read and write heads.

    forward(x B x T x inputs) -> logits B x T x outputs; with trace=True also a dict of per-step
    tensors (stacked over time) for plotting: read/write weightings at every addressing stage, the
    head parameters, reads and the final memory.
    """

    def __init__(self, cfg: NTMModelConfig, inputs: int, outputs: int):
        super().__init__()
        self.cfg = sp = cfg
        self.inputs, self.outputs = inputs, outputs
        self.heads = sp.read_heads + sp.write_heads
        ctrl_in = inputs + sp.read_heads * sp.width
        if sp.controller == "lstm":
            self.controller = nn.LSTMCell(ctrl_in, sp.hidden)
        elif sp.controller == "feedforward":
            self.controller = nn.Sequential(nn.Linear(ctrl_in, sp.hidden), nn.Tanh())
        else:
            raise ValueError(f"controller = {sp.controller!r}; choose 'lstm' or 'feedforward'")
        # One linear map emits every head's parameters: key, beta, g, shift logits, gamma.
        self.per_head = sp.width + 3 + sp.shifts
        self.head_params = nn.Linear(sp.hidden, self.heads * self.per_head + sp.write_heads * 2 * sp.width)
        self.output = nn.Linear(sp.hidden + sp.read_heads * sp.width, outputs)
        # Learned initial state (bias vectors), as in Collier & Beel's implementation.
        # Initial weightings start focused on location 0. With a constant memory and a uniform start
        # every location would look the same to every head, forever: nothing breaks the symmetry.
        w0 = torch.zeros(self.heads, sp.locations)
        w0[:, 0] = 10.0
        self.w0 = nn.Parameter(w0)
        self.r0 = nn.Parameter(torch.randn(sp.read_heads, sp.width) * 0.01)
        # Memory at the start of every episode, the three schemes of Collier & Beel's code: learned
        # (tanh of a learned bias), random (tanh of N(0, 0.5^2), drawn afresh for every episode, from
        # torch's global generator, which `fit` seeds) and constant (1e-6 everywhere).
        if sp.memory_init == "learned":
            self.m0 = nn.Parameter(torch.randn(sp.locations, sp.width) * 0.01)
        elif sp.memory_init == "random":
            self.register_buffer("m0", torch.zeros(sp.locations, sp.width))
        elif sp.memory_init == "constant":
            self.register_buffer("m0", torch.full((sp.locations, sp.width), 1e-6))
        else:
            raise ValueError(f"memory_init = {sp.memory_init!r}; choose 'constant', 'learned' or 'random'")
        if sp.controller == "lstm":
            self.h0 = nn.Parameter(torch.zeros(sp.hidden))
            self.c0 = nn.Parameter(torch.zeros(sp.hidden))
        self.train_step = None  # a compiled `step` for training (augrnn.ntm.tasks.NTMTask.compile_model)

    def initial_state(self, batch: int):
        sp = self.cfg
        # Contiguous copies, not broadcast views: the first step then sees the strides of every later
        # one (a compiled step is specialised to its inputs' strides).
        if sp.memory_init == "random":
            memory = torch.tanh(torch.randn(batch, *self.m0.shape, device=self.m0.device) * 0.5)
        elif sp.memory_init == "learned":
            memory = torch.tanh(self.m0).expand(batch, -1, -1).contiguous()
        else:
            memory = self.m0.expand(batch, -1, -1).contiguous()
        state = {
            "memory": memory,
            "w": torch.softmax(self.w0, dim=-1).expand(batch, -1, -1).contiguous(),
            "reads": torch.tanh(self.r0).reshape(1, -1).expand(batch, -1).contiguous(),
        }
        if sp.controller == "lstm":
            state["hc"] = (self.h0.expand(batch, -1).contiguous(), self.c0.expand(batch, -1).contiguous())
        return state

    def split_heads(self, out: torch.Tensor):
        """Controller output -> head parameters squashed to their ranges."""
        sp, b = self.cfg, out.shape[0]
        # Clip the raw outputs (Collier & Beel 2018): keeps softplus/softmax far from overflow.
        out = out.clamp(-20, 20)
        heads = out[:, : self.heads * self.per_head].reshape(b, self.heads, self.per_head)
        m = sp.width
        p = {
            "key": heads[..., :m],
            "beta": F.softplus(heads[..., m]),
            "g": torch.sigmoid(heads[..., m + 1]),
            "s": torch.softmax(heads[..., m + 2 : m + 2 + sp.shifts], dim=-1),
            "gamma": 1 + F.softplus(heads[..., m + 2 + sp.shifts]),
        }
        ea = out[:, self.heads * self.per_head :].reshape(b, sp.write_heads, 2 * m)
        p["erase"], p["add"] = torch.sigmoid(ea[..., :m]), torch.tanh(ea[..., m:])
        return p

    def step(self, x, state, trace: dict | None = None):
        sp = self.cfg
        ctrl_in = torch.cat([x, state["reads"]], dim=-1)
        if sp.controller == "lstm":
            h, c = self.controller(ctrl_in, state["hc"])
            hc = (h, c)
        else:
            h, hc = self.controller(ctrl_in), None
        p = self.split_heads(self.head_params(h))
        memory = state["memory"]
        w = address(memory, state["w"], p["key"], p["beta"], p["g"], p["s"], p["gamma"], trace)
        w_read, w_write = w[:, : sp.read_heads], w[:, sp.read_heads :]
        reads = read(memory, w_read).reshape(x.shape[0], -1)  # read heads see memory before the write
        memory = write(memory, w_write, p["erase"], p["add"])
        y = self.output(torch.cat([h, reads], dim=-1))
        if trace is not None:
            trace.update({k: p[k] for k in ("beta", "g", "s", "gamma", "erase", "add")}, reads=reads)
        new = {"memory": memory, "w": w, "reads": reads}
        if hc is not None:
            new["hc"] = hc
        return y, new

    def forward(self, x: torch.Tensor, trace: bool = False):
        state = self.initial_state(x.shape[0])
        outputs, steps = [], []
        step = self.train_step if self.training and self.train_step is not None and not trace else self.step
        xs = x.transpose(0, 1).contiguous()  # T x B x inputs: every step's input has the same strides
        for t in range(x.shape[1]):
            rec = {} if trace else None
            y, state = step(xs[t], state, rec)
            outputs.append(y)
            if trace:
                steps.append(rec)
        logits = torch.stack(outputs, dim=1)
        if not trace:
            return logits
        stacked = {k: torch.stack([s[k] for s in steps], dim=1) for k in steps[0]}
        stacked["memory"] = state["memory"]
        return logits, stacked


class LSTMBaseline(nn.Module):
    """The paper's baseline: a stacked LSTM (3 layers of 256 units) with a linear output."""

    def __init__(self, inputs: int, outputs: int, hidden: int = 256, layers: int = 3):
        super().__init__()
        self.lstm = nn.LSTM(inputs, hidden, num_layers=layers, batch_first=True)
        self.output = nn.Linear(hidden, outputs)

    def forward(self, x, trace: bool = False):
        h, _ = self.lstm(x)
        return self.output(h)
