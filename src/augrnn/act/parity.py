"""The parity experiment of Adaptive Computation Time (Graves 2016, section 3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import Config, TrainConfig, bounded, choice, nested
from ..core.devices import fixed_generator
from .mechanism import ACTCell


@dataclass(frozen=True)
class ParityModelConfig(Config):
    act: str = choice("act", ("act", "none"))  # "none": the same RNN with one step per input
    hidden: int = bounded(128, 1, 4096)
    max_steps: int = bounded(20, 1, 1000)
    eps: float = bounded(0.01, 0.0, 0.5)


@dataclass(frozen=True)
class ParityConfig(TrainConfig):
    bits: int = bounded(64, 1, 1024)
    model: ParityModelConfig = nested(ParityModelConfig)
    tau: float = bounded(1e-3, 0.0, 10.0)  # time penalty: the ponder cost's weight in the loss (eq. 12)
    # Ours, not the paper's: steps over which the largest number of non-zero elements grows from 1 to
    # `bits` (0: every count from the start, as in the paper).
    curriculum: int = bounded(0, 0)
    # Where the non-zero elements go. The paper: "a random number from 1 to 64 were randomly set to 1
    # or -1"; "random": at random positions (our reading), "prefix": the first n (the reading of Fojo
    # et al. 2018, whose ACT solves 64 elements).
    layout: str = choice("random", ("random", "prefix"))
    eval_size: int = bounded(2048, 1, 1 << 20)


def parity_batch(cfg: ParityConfig, batch: int, g: torch.Generator, device, most: int | None = None):
    """A vector of `bits` elements, a random number 1..bits (1..most) of them set to +1 or -1 at random
    (at random positions, or the first ones for cfg.layout "prefix"), the rest 0; the target is 1 when
    the number of +1 entries is odd."""
    count = torch.randint(1, (most or cfg.bits) + 1, (batch, 1), generator=g, device=device)
    if cfg.layout == "prefix":
        chosen = torch.arange(cfg.bits, device=device) < count
    else:
        order = torch.rand(batch, cfg.bits, generator=g, device=device).argsort(-1)
        chosen = order < count  # `count` positions, uniformly placed
    signs = torch.randint(0, 2, (batch, cfg.bits), generator=g, device=device) * 2 - 1
    x = (chosen * signs).float()
    y = ((x == 1).sum(-1) % 2).float()
    return {"x": x, "y": y, "nonzero": count.squeeze(-1)}


class ParityNet(nn.Module):
    """A simple tanh RNN (one hidden layer) that sees each parity vector for one time step."""

    def __init__(self, cfg: ParityModelConfig, bits: int):
        super().__init__()
        self.use_act = cfg.act == "act"
        self.cell = nn.RNNCell(bits + 1, cfg.hidden, nonlinearity="tanh")
        self.act = ACTCell(self.cell, cfg.hidden, cfg.max_steps, cfg.eps) if self.use_act else None
        self.out = nn.Linear(cfg.hidden, 1)
        self.hidden = cfg.hidden

    def forward(self, x):
        s0 = torch.zeros(x.shape[0], self.hidden, device=x.device)
        if self.use_act:
            s, ponder, info = self.act(x, s0)
        else:
            flag = torch.ones(x.shape[0], 1, device=x.device)
            s = self.cell(torch.cat([x, flag], -1), s0)
            ponder, info = torch.ones(x.shape[0], device=x.device), {}
        return self.out(s).squeeze(-1), ponder, info


class Parity:
    """Plugs parity into augrnn.core.train.fit. Loss: cross-entropy + tau * ponder cost (eq. 12)."""

    def build_model(self, cfg):
        return ParityNet(cfg.model, cfg.bits)

    def batch(self, cfg, step, g, device):
        return parity_batch(cfg, cfg.batch_size, g, device, most=self.most(cfg, step))

    @staticmethod
    def most(cfg, step) -> int:
        """The largest number of non-zero elements at this step (the curriculum, if any)."""
        if not cfg.curriculum:
            return cfg.bits
        return 1 + round((cfg.bits - 1) * min(1.0, step / cfg.curriculum))

    def loss(self, model, b, cfg):
        logits, ponder, _ = model(b["x"])
        task = F.binary_cross_entropy_with_logits(logits, b["y"])
        loss = task + (cfg.tau * ponder.mean() if cfg.model.act == "act" else 0.0)
        error = ((logits > 0).float() != b["y"]).float().mean()
        return loss, {"loss": task, "error": error, "ponder": ponder.mean()}

    def evaluate(self, model, cfg, device):
        g = fixed_generator(31_337, device)
        b = parity_batch(cfg, cfg.eval_size, g, device)
        logits, ponder, _ = model(b["x"])
        return {
            "test_error": float(((logits > 0).float() != b["y"]).float().mean()),
            "test_ponder": float(ponder.mean()),
        }
