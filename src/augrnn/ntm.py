"""Neural Turing Machine (Graves, Wayne & Danihelka 2014), section 3.

Addressing is split from memory access and from the controller, as in DeepMind's DNC code: the five
functions below are pure tensor functions, batched over the batch B and the heads H; `NTM` composes
them with a controller. Shapes: memory B x N x M (N locations of width M), weightings B x H x N.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

# --- addressing (section 3.3) ------------------------------------------------------------------


def content_weights(memory: torch.Tensor, key: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """Content addressing.

    memory B x N x M, key B x H x M, beta B x H (key strength >= 0) -> weights B x H x N.
    Eq. 5-6: w_c(i) = softmax_i(beta * K[k, M(i)]) with K the cosine similarity. An all-zero memory
    row or key has similarity 0 (normalising with an epsilon), never NaN.
    """
    sim = F.normalize(key, dim=-1, eps=1e-8) @ F.normalize(memory, dim=-1, eps=1e-8).transpose(1, 2)
    return torch.softmax(beta.unsqueeze(-1) * sim, dim=-1)


def interpolate(w_content: torch.Tensor, w_prev: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Eq. 7: w_g = g * w_c + (1 - g) * w_prev. Weightings B x H x N, gate g B x H in [0, 1]."""
    g = g.unsqueeze(-1)
    return g * w_content + (1 - g) * w_prev


def shift(w: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Eq. 8, circular convolution: w~(i) = sum_j w(j) s(i - j).

    w B x H x N, s B x H x S with S odd; s[..., k] weights the offset k - S//2, so all mass on
    offset +1 moves the focus from location i to i + 1 (mod N).
    """
    n, size = w.shape[-1], s.shape[-1]
    offsets = torch.arange(size, device=w.device) - size // 2
    # source[k, i] = i - offset_k: the location that offset k brings to location i
    source = (torch.arange(n, device=w.device).unsqueeze(0) - offsets.unsqueeze(1)) % n
    moved = w[..., source]  # B x H x S x N
    return (s.unsqueeze(-1) * moved).sum(-2)


def sharpen(w: torch.Tensor, gamma: torch.Tensor, eps: float = 1e-16) -> torch.Tensor:
    """Eq. 9: w(i) = w~(i)^gamma / sum_j w~(j)^gamma, gamma B x H >= 1.

    Computed as a softmax of gamma * log w, so a large gamma cannot underflow the sum to zero.
    """
    return torch.softmax(gamma.unsqueeze(-1) * torch.log(w.clamp_min(eps)), dim=-1)


# --- memory access (section 3.1-3.2) -------------------------------------------------------------


def read(memory: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Eq. 2: r = sum_i w(i) M(i). memory B x N x M, w B x H x N -> B x H x M."""
    return w @ memory


def write(memory: torch.Tensor, w: torch.Tensor, erase: torch.Tensor, add: torch.Tensor) -> torch.Tensor:
    """Eq. 3-4: erase, then add. memory B x N x M, w B x H x N, erase and add B x H x M.

    With several write heads the erasures multiply (their order does not matter) and the additions
    sum, as section 3.2 of the paper describes.
    """
    keep = torch.prod(1 - w.unsqueeze(-1) * erase.unsqueeze(-2), dim=1)  # B x N x M
    return memory * keep + torch.einsum("bhn,bhm->bnm", w, add)


def address(memory, w_prev, key, beta, g, s, gamma, trace: dict | None = None):
    """The whole addressing pipeline of figure 2, for every head at once."""
    w_c = content_weights(memory, key, beta)
    w_g = interpolate(w_c, w_prev, g)
    w_s = shift(w_g, s)
    w = sharpen(w_s, gamma)
    if trace is not None:
        trace.update(content=w_c, interpolated=w_g, shifted=w_s, sharpened=w)
    return w


# --- the machine ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NTMShape:
    inputs: int
    outputs: int
    controller: str = "lstm"  # "lstm" or "feedforward"
    hidden: int = 100
    locations: int = 128
    width: int = 20
    read_heads: int = 1
    write_heads: int = 1
    shifts: int = 3  # offsets -1, 0, +1
    memory_init: str = "constant"  # "constant", "learned" or "random" (Collier & Beel 2018)


class NTM(nn.Module):
    """An NTM with an LSTM or feedforward controller and any number of read and write heads.

    forward(x B x T x inputs) -> logits B x T x outputs; with trace=True also a dict of per-step
    tensors (stacked over time) for plotting: read/write weightings at every addressing stage, the
    head parameters, reads and the final memory.
    """

    def __init__(self, shape: NTMShape):
        super().__init__()
        self.shape = sp = shape
        self.heads = sp.read_heads + sp.write_heads
        ctrl_in = sp.inputs + sp.read_heads * sp.width
        if sp.controller == "lstm":
            self.controller = nn.LSTMCell(ctrl_in, sp.hidden)
        elif sp.controller == "feedforward":
            self.controller = nn.Sequential(nn.Linear(ctrl_in, sp.hidden), nn.Tanh())
        else:
            raise ValueError(f"controller = {sp.controller!r}; choose 'lstm' or 'feedforward'")
        # One linear map emits every head's parameters: key, beta, g, shift logits, gamma.
        self.per_head = sp.width + 3 + sp.shifts
        self.head_params = nn.Linear(sp.hidden, self.heads * self.per_head + sp.write_heads * 2 * sp.width)
        self.output = nn.Linear(sp.hidden + sp.read_heads * sp.width, sp.outputs)
        # Learned initial state (bias vectors), as in Collier & Beel's implementation.
        # Initial weightings start focused on location 0. With a constant memory and a uniform start
        # every location would look the same to every head, forever: nothing breaks the symmetry.
        w0 = torch.zeros(self.heads, sp.locations)
        w0[:, 0] = 10.0
        self.w0 = nn.Parameter(w0)
        self.r0 = nn.Parameter(torch.randn(sp.read_heads, sp.width) * 0.01)
        if sp.memory_init == "learned":
            self.m0 = nn.Parameter(torch.randn(sp.locations, sp.width) * 0.01)
        elif sp.memory_init == "random":
            self.register_buffer("m0", torch.randn(sp.locations, sp.width) * 0.5)
        elif sp.memory_init == "constant":
            self.register_buffer("m0", torch.full((sp.locations, sp.width), 1e-6))
        else:
            raise ValueError(f"memory_init = {sp.memory_init!r}; choose 'constant', 'learned' or 'random'")
        if sp.controller == "lstm":
            self.h0 = nn.Parameter(torch.zeros(sp.hidden))
            self.c0 = nn.Parameter(torch.zeros(sp.hidden))

    def initial_state(self, batch: int):
        sp = self.shape
        state = {
            "memory": self.m0.expand(batch, -1, -1),
            "w": torch.softmax(self.w0, dim=-1).expand(batch, -1, -1),
            "reads": torch.tanh(self.r0).reshape(1, -1).expand(batch, -1),
        }
        if sp.controller == "lstm":
            state["hc"] = (self.h0.expand(batch, -1), self.c0.expand(batch, -1))
        return state

    def split_heads(self, out: torch.Tensor):
        """Controller output -> head parameters squashed to their ranges."""
        sp, b = self.shape, out.shape[0]
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
        sp = self.shape
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
        for t in range(x.shape[1]):
            rec = {} if trace else None
            y, state = self.step(x[:, t], state, rec)
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
