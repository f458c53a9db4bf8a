"""The proving chapter's task: retrieve a value by a noisy key, with content-based attention.

Each example is a small table of N (key, value) slots: keys are random unit vectors in R^D, values are
random 8-bit patterns. The query is one of the keys plus noise. The model must output that slot's
value bits. A learned query/key projection, a softmax and a weighted sum solve it; the same model with
uniform weights (mean pooling) cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..attention.mechanism import attend, dot_scores
from ..core.config import Config, TrainConfig, bounded, choice, nested
from ..core.devices import fixed_generator


@dataclass(frozen=True)
class LookupModelConfig(Config):
    attention: str = choice("dot", ("dot", "uniform"))  # "uniform": mean pooling, the control


@dataclass(frozen=True)
class LookupConfig(TrainConfig):
    slots: int = bounded(8, 2, 256)
    key_dim: int = bounded(16, 2, 512)
    value_bits: int = bounded(8, 1, 64)
    noise: float = bounded(0.3, 0.0, 10.0)
    model: LookupModelConfig = nested(LookupModelConfig)
    eval_batch: int = bounded(512, 1, 65536)


def make_batch(cfg: LookupConfig, batch: int, g: torch.Generator, device) -> dict:
    keys = F.normalize(torch.randn(batch, cfg.slots, cfg.key_dim, generator=g, device=device), dim=-1)
    values = torch.randint(0, 2, (batch, cfg.slots, cfg.value_bits), generator=g, device=device).float()
    target_slot = torch.randint(0, cfg.slots, (batch,), generator=g, device=device)
    rows = torch.arange(batch, device=device)
    noise = torch.randn(batch, cfg.key_dim, generator=g, device=device) * cfg.noise / cfg.key_dim**0.5
    query = keys[rows, target_slot] + noise
    return {"keys": keys, "values": values, "query": query, "slot": target_slot, "target": values[rows, target_slot]}


class SoftLookup(nn.Module):
    """Project query and keys, attend, read the values, map the read to bit logits."""

    def __init__(self, cfg: LookupModelConfig, key_dim: int, value_bits: int):
        super().__init__()
        self.uniform = cfg.attention == "uniform"
        self.q = nn.Linear(key_dim, key_dim, bias=False)
        self.k = nn.Linear(key_dim, key_dim, bias=False)
        self.temperature = nn.Parameter(torch.tensor(1.0))  # lets the model sharpen its softmax
        self.out = nn.Linear(value_bits, value_bits)

    def forward(self, query, keys, values):
        scores = dot_scores(self.q(query).unsqueeze(1), self.k(keys)) * self.temperature  # B x 1 x N
        if self.uniform:
            scores = torch.zeros_like(scores)
        read, weights = attend(scores, values)
        return self.out(read.squeeze(1) * 2 - 1), weights.squeeze(1)


class Lookup:
    """The experiment: plugs the task and model into augrnn.core.train.fit."""

    def build_model(self, cfg):
        return SoftLookup(cfg.model, cfg.key_dim, cfg.value_bits)

    def batch(self, cfg, step, g, device):
        return make_batch(cfg, cfg.batch_size, g, device)

    def loss(self, model, b, cfg):
        logits, weights = model(b["query"], b["keys"], b["values"])
        loss = F.binary_cross_entropy_with_logits(logits, b["target"])
        bit_acc = ((logits > 0).float() == b["target"]).float().mean()
        return loss, {"loss": loss, "bit_accuracy": bit_acc}

    def evaluate(self, model, cfg, device):
        g = fixed_generator(10_000 + cfg.seed, device)  # a fixed held-out set per seed
        b = make_batch(cfg, cfg.eval_batch, g, device)
        logits, weights = model(b["query"], b["keys"], b["values"])
        exact = ((logits > 0).float() == b["target"]).all(dim=-1).float().mean()
        picked = (weights.argmax(-1) == b["slot"]).float().mean()
        return {"test_exact": float(exact), "test_slot_accuracy": float(picked)}
