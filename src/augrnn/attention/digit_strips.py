"""Show, Attend and Tell at toy scale: read a strip of handwritten digits with an attending decoder.

Images are scikit-learn's bundled 8 x 8 digits (1,797 of them, shipped with the package), placed
side by side into strips of `min_digits`..`max_digits` digits. A small conv net turns a strip into a
grid of region vectors (the annotations); the attending GRU decoder of `augrnn.attention.seq2seq` emits the
digits and then EOS. The digits are split into train and test images once, by a fixed permutation,
so test strips are made only of images never seen in training.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import Config, ConfigError, TrainConfig, bounded, choice, nested
from ..core.devices import fixed_generator, per_device
from ..datasets.digits import digit_images
from .seq2seq import DIGIT_BOS as BOS
from .seq2seq import DIGIT_EOS as EOS
from .seq2seq import DIGIT_VOCAB as VOCAB
from .seq2seq import Decoder, Encoded, sequence_loss, shift_right


@dataclass(frozen=True)
class ReaderConfig(Config):
    attention: str = choice("additive", ("additive", "dot", "general", "none"))
    channels: int = bounded(32, 1, 1024)
    hidden: int = bounded(64, 1, 4096)


@dataclass(frozen=True)
class StripConfig(TrainConfig):
    model: ReaderConfig = nested(ReaderConfig)
    min_digits: int = bounded(3, 1, 20)
    max_digits: int = bounded(5, 1, 20)
    test_share: float = bounded(0.25, 0.0, 1.0, lo_open=True)
    eval_size: int = bounded(500, 1, 100_000)

    def __post_init__(self):
        super().__post_init__()
        if self.min_digits > self.max_digits:
            raise ConfigError(f"StripConfig.min_digits = {self.min_digits} must be <= max_digits = {self.max_digits}")


@per_device
def _on_device(test_share: float):
    return digit_images(test_share)


def strip_batch(cfg: StripConfig, batch: int, g: torch.Generator, device, split="train", n_digits=None):
    """Strips B x 1 x 8 x (8k) of k digits (k per batch), targets B x (k+1) ending in EOS."""
    tr_x, tr_y, te_x, te_y = _on_device(cfg.test_share, device)
    images, labels = (tr_x, tr_y) if split == "train" else (te_x, te_y)
    k = n_digits or random.Random(g.initial_seed()).randint(cfg.min_digits, cfg.max_digits)
    # Which images: drawn on the host from the step's seed (the same numbers on every device).
    idx = torch.randint(0, len(labels), (batch, k), generator=torch.Generator().manual_seed(g.initial_seed()))
    idx = idx.to(device)
    x = images[idx].permute(0, 2, 1, 3).reshape(batch, 1, 8, 8 * k)  # side by side
    eos = torch.full((batch, 1), EOS, device=labels.device)
    return {"x": x, "y": torch.cat([labels[idx], eos], 1)}


class StripReader(nn.Module):
    """Conv encoder -> a 2 x (2k) grid of region vectors -> attending decoder over the regions."""

    def __init__(self, cfg: ReaderConfig, max_digits: int):
        super().__init__()
        c = cfg.channels
        self.conv = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c, c, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        # Regions know where they are: a learned embedding of the column position.
        self.position = nn.Embedding(4 * max_digits, c)
        self.decoder = Decoder(
            VOCAB, c, embed=16, hidden=cfg.hidden, attention=None if cfg.attention == "none" else cfg.attention
        )

    def encode(self, x) -> Encoded:
        f = self.conv(x)  # B x C x 2 x 2k
        b, c, h, w = f.shape
        f = f + self.position(torch.arange(w, device=x.device)).T.reshape(1, c, 1, w)
        regions = f.flatten(2).transpose(1, 2)  # B x (2 * 2k) x C, row-major: (row, column)
        mask = torch.ones(b, h * w, dtype=torch.bool, device=x.device)
        return Encoded(regions, mask, regions.mean(1))

    def forward(self, x, y):
        return self.decoder(self.encode(x), shift_right(y, BOS))

    @torch.no_grad()
    def read(self, x, max_len):
        return self.decoder.greedy(self.encode(x), BOS, EOS, max_len)


class DigitStrips:
    def build_model(self, cfg):
        return StripReader(cfg.model, cfg.max_digits)

    def batch(self, cfg, step, g, device):
        return strip_batch(cfg, cfg.batch_size, g, device)

    def loss(self, model, b, cfg):
        logits, _ = model(b["x"], b["y"])
        loss = sequence_loss(logits, b["y"])
        return loss, {"loss": loss}

    def evaluate(self, model, cfg, device):
        return {"test_sequence_accuracy": sequence_accuracy(model, cfg, device)}


def sequence_accuracy(model, cfg, device, n_digits=None, n=None) -> float:
    """Share of held-out strips read exactly (every digit and the EOS), greedy decoding."""
    right, total = 0, 0
    sizes = [n_digits] if n_digits else list(range(cfg.min_digits, cfg.max_digits + 1))
    for k in sizes:
        g = fixed_generator(90_000 + k, device)
        b = strip_batch(cfg, (n or cfg.eval_size) // len(sizes), g, device, "test", k)
        out, _ = model.read(b["x"], k + 1)
        if out.shape[1] < k + 1:  # every sequence ended early
            out = F.pad(out, (0, k + 1 - out.shape[1]), value=EOS)
        right += int((out[:, : k + 1] == b["y"]).all(1).sum())
        total += b["y"].shape[0]
    return right / total
