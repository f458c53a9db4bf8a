"""The logic experiment of Adaptive Computation Time (Graves 2016, section 3.2, table 1).

A sequence has 1-10 input vectors of 102 elements: two bits b0, b1, then 10 chunks of 10. The first G
chunks (G from 1 to 10) one-hot encode logic gates drawn from the 10 of table 1, the rest are zero.
The target of a vector is b_{G+1}, where b_{i+1} = T_i(b_i, b_{i-1}) applies its gates in turn. In the
first vector b0 and b1 are random; in later ones only b1 is, b0 is the previous vector's target and is
zero in the input, so the network must carry it. Which argument of a gate is P and which Q is not
stated: ours is P = b_i, Q = b_{i-1} (the gate set holds each gate's mirror image, so either choice
gives the same task up to renaming gates).

Shapes: x B x T x 102; y, mask B x T (mask marks the real vectors of shorter sequences).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import Config, TrainConfig, bounded, choice, nested
from ..core.devices import fixed_generator, per_device
from ..core.packing import sort_by_length, unpacker
from .mechanism import ACTCell

GATES = ("NOR", "Xq", "ABJ", "XOR", "NAND", "AND", "XNOR", "if/then", "then/if", "OR")
# Table 1, one row per gate; the columns are (P, Q) = (T, T), (T, F), (F, T), (F, F).
TRUTH = (
    (0, 0, 0, 1),
    (0, 0, 1, 0),
    (0, 1, 0, 0),
    (0, 1, 1, 0),
    (0, 1, 1, 1),
    (1, 0, 0, 0),
    (1, 0, 0, 1),
    (1, 0, 1, 1),
    (1, 1, 0, 1),
    (1, 1, 1, 0),
)
CHUNKS, CHUNK = 10, 10
WIDTH = 2 + CHUNKS * CHUNK  # 102


@per_device
def _truth():
    """G x 4 truth table, indexed by 2 * (1 - P) + (1 - Q) to follow the table's column order."""
    return torch.tensor(TRUTH)


def gate(g: torch.Tensor, p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """T_g(P, Q) for integer tensors of gate ids and bits (0/1) of one shape."""
    return _truth(g.device)[g, 2 * (1 - p) + (1 - q)]


@dataclass(frozen=True)
class LogicModelConfig(Config):
    act: str = choice("act", ("act", "none"))  # "none": the same LSTM with one step per input
    hidden: int = bounded(128, 1, 4096)
    max_steps: int = bounded(100, 1, 1000)  # M (paper, sec. 3)
    eps: float = bounded(0.01, 0.0, 0.5)


@dataclass(frozen=True)
class LogicConfig(TrainConfig):
    max_length: int = bounded(10, 1, 100)  # vectors per sequence: 1..max_length
    model: LogicModelConfig = nested(LogicModelConfig)
    tau: float = bounded(1e-3, 0.0, 10.0)
    eval_size: int = bounded(2048, 1, 1 << 20)


def logic_batch(cfg: LogicConfig, batch: int, g: torch.Generator, device) -> dict:
    T = cfg.max_length

    def draw(high, *shape):
        return torch.randint(0, high, shape, generator=g, device=device)

    lengths = draw(T, batch) + 1
    n_gates = draw(CHUNKS, batch, T) + 1
    gates = draw(len(GATES), batch, T, CHUNKS)
    b1 = draw(2, batch, T)
    b0 = draw(2, batch)
    used = torch.arange(CHUNKS, device=device) < n_gates[..., None]  # B x T x chunks
    x = torch.zeros(batch, T, WIDTH, device=device)
    x[:, 0, 0] = b0.float()  # later vectors show b0 as zero
    x[:, :, 1] = b1.float()
    x[:, :, 2:] = (F.one_hot(gates, CHUNK) * used[..., None]).flatten(2).float()
    # Every vector's chain of gates at once, for both values its carried bit b0 may take (B x T x 2);
    # the carry itself then needs only one pass over the vectors.
    q = torch.arange(2, device=device).expand(batch, T, 2)  # b_{i-1}, starting at b0 = 0 or 1
    p = b1[..., None].expand(batch, T, 2)  # b_i
    for i in range(CHUNKS):
        keep = used[:, :, i, None]
        q, p = torch.where(keep, p, q), torch.where(keep, gate(gates[:, :, i, None], p, q), p)
    targets, prev = [], b0
    for t in range(T):
        prev = p[:, t].gather(1, prev[:, None]).squeeze(1)
        targets.append(prev)
    y = torch.stack(targets, 1)
    mask = torch.arange(T, device=device) < lengths[:, None]
    return {"x": x, "y": y.float(), "mask": mask, "lengths": lengths}


class LogicNet(nn.Module):
    """An LSTM of `hidden` cells with one sigmoid output per input vector, with or without ACT."""

    def __init__(self, cfg: LogicModelConfig):
        super().__init__()
        self.use_act = cfg.act == "act"
        self.cell = nn.LSTMCell(WIDTH + 1, cfg.hidden)
        self.act = ACTCell(self.cell, cfg.hidden, cfg.max_steps, cfg.eps) if self.use_act else None
        self.out = nn.Linear(cfg.hidden, 1)
        self.hidden = cfg.hidden

    def forward(self, x, lengths=None):
        """x B x T x WIDTH -> logits and ponder costs, B x T each. lengths (B): each sequence's real
        vectors. Given, step t runs only the sequences longer than t, as a packed sequence does (rows
        sorted by length, so those are the first n_t), and the outputs past a sequence's end are zero:
        a loss that masks them gets the numbers of the whole batch (to float rounding) for the real
        vectors' share of the work, about half of it for lengths 1-10."""
        B, T, _ = x.shape
        if lengths is None:
            order, sizes = None, [B] * T
        else:
            order, sizes = sort_by_length(lengths, T)
            x = x[order]
        state = (x.new_zeros(B, self.hidden), x.new_zeros(B, self.hidden))
        flag = x.new_ones(B, 1)
        logits, ponders = [], []
        for t, n in enumerate(sizes):
            state = tuple(s if s.shape[0] == n else s[:n] for s in state)
            x_t = x[:n, t]
            if self.use_act:
                state, ponder, _ = self.act(x_t, state)
            else:
                state, ponder = self.cell(torch.cat([x_t, flag[:n]], -1), state), x.new_ones(n)
            logits.append(self.out(state[0]).squeeze(-1))
            ponders.append(ponder)
        if order is None:
            return torch.stack(logits, 1), torch.stack(ponders, 1)  # B x T each
        unpack = unpacker(order, sizes, T)  # back to the batch's order, zero past each sequence's end
        return unpack(torch.cat(logits)), unpack(torch.cat(ponders))


def sequence_errors(logits, b) -> torch.Tensor:
    """B booleans: the sequence has at least one wrong output among its real vectors."""
    wrong = ((logits > 0).float() != b["y"]) & b["mask"]
    return wrong.any(1)


class Logic:
    """Plugs the logic task into augrnn.core.train.fit. Loss per sequence: the summed cross-entropy
    of its outputs + tau * its summed ponder cost (eq. 12), averaged over the batch."""

    def build_model(self, cfg):
        return LogicNet(cfg.model)

    def batch(self, cfg, step, g, device):
        return logic_batch(cfg, cfg.batch_size, g, device)

    def loss(self, model, b, cfg):
        logits, ponder = model(b["x"], b["lengths"])
        mask = b["mask"].float()
        task = (F.binary_cross_entropy_with_logits(logits, b["y"], reduction="none") * mask).sum(1).mean()
        cost = (ponder * mask).sum(1).mean()
        loss = task + (cfg.tau * cost if cfg.model.act == "act" else 0.0)
        return loss, {"loss": task, **scores(logits, ponder, b)}

    def evaluate(self, model, cfg, device):
        b = logic_batch(cfg, cfg.eval_size, fixed_generator(27_182, device), device)
        return {f"test_{k}": float(v) for k, v in scores(*model(b["x"], b["lengths"]), b).items()}


def scores(logits, ponder, b) -> dict:
    """Sequence error rate and mean ponder cost per real vector."""
    mask = b["mask"].float()
    return {"error": sequence_errors(logits, b).float().mean(), "ponder": (ponder * mask).sum() / mask.sum()}
