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
from .mechanism import coverage_penalty, entropy
from .pool import MaxPoolReLU
from .seq2seq import DIGIT_BOS as BOS
from .seq2seq import DIGIT_EOS as EOS
from .seq2seq import DIGIT_VOCAB as VOCAB
from .seq2seq import Decoder, Encoded, sequence_loss, shift_right


@dataclass(frozen=True)
class ReaderConfig(Config):
    attention: str = choice("additive", ("additive", "dot", "scaled_dot", "general", "none"))
    read: str = choice("soft", ("soft", "hard"))  # hard: one region per step (Xu et al. sec. 4.1)
    channels: int = bounded(32, 1, 1024)
    hidden: int = bounded(64, 1, 4096)


@dataclass(frozen=True)
class StripConfig(TrainConfig):
    model: ReaderConfig = nested(ReaderConfig)
    min_digits: int = bounded(3, 1, 20)
    max_digits: int = bounded(5, 1, 20)
    test_share: float = bounded(0.25, 0.0, 1.0, lo_open=True)
    eval_size: int = bounded(500, 1, 100_000)
    # Xu et al.'s doubly stochastic penalty lambda * sum_i (1 - sum_t alpha_ti)^2, against the strip's
    # summed log-likelihood (their code's COCO recipe: lambda = 1); 0 turns it off.
    coverage: float = bounded(0.0, 0.0)
    # Hard attention (Xu et al. sec. 4.1; values from their code, arctic-captions, as the paper gives
    # none): REINFORCE weight lambda_r, entropy weight lambda_e, the share of strips read softly.
    reinforce: float = bounded(0.1, 0.0)
    entropy_bonus: float = bounded(0.002, 0.0)
    expected_share: float = bounded(0.5, 0.0, 1.0)

    def __post_init__(self):
        super().__post_init__()
        if self.min_digits > self.max_digits:
            raise ConfigError(f"StripConfig.min_digits = {self.min_digits} must be <= max_digits = {self.max_digits}")
        if self.model.read == "hard" and self.model.attention == "none":
            raise ConfigError("StripConfig.model.read = 'hard' needs attention; got attention = 'none'")


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
    out = {"x": x, "y": torch.cat([labels[idx], eos], 1)}
    if cfg.model.read == "hard" and split == "train":  # the draws of the hard reads, from the step's seed
        out["noise"] = torch.rand(batch, k + 1, 4 * k, generator=g, device=device)  # 4k regions per strip
        out["expected"] = torch.rand(batch, generator=g, device=device) < cfg.expected_share
    return out


class StripReader(nn.Module):
    """Conv encoder -> a 2 x (2k) grid of region vectors -> attending decoder over the regions."""

    def __init__(self, cfg: ReaderConfig, max_digits: int):
        super().__init__()
        c = cfg.channels
        # Pooling before the ReLU: max(relu(x)) = relu(max(x)), the same numbers and gradients (ReLU is
        # monotone, and a window's maximum is the same element either way), with the ReLU on a quarter
        # of the values. Both run as one function (attention/pool.py: one pass each way on a CPU, the
        # same bits as torch's two layers); the empty layers keep the others' indices, so saved weights load.
        self.conv = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1),
            MaxPoolReLU(),
            nn.Identity(),
            nn.Conv2d(c, c, 3, padding=1),
            MaxPoolReLU(),
            nn.Identity(),
        )
        # Channels-last weights make the convolutions' outputs channels last: the same numbers, and
        # torch's CPU max-pooling runs ~10x faster on that layout than on the default one.
        self.conv.to(memory_format=torch.channels_last)
        # Regions know where they are: a learned embedding of the column position.
        self.position = nn.Embedding(4 * max_digits, c)
        self.decoder = Decoder(VOCAB, c, 16, cfg.hidden, None if cfg.attention == "none" else cfg.attention, cfg.read)
        # REINFORCE baseline: a running mean of the reward (Xu et al. sec. 4.1: b <- 0.9 b + 0.1 R),
        # a buffer so that it is saved with the model and a resumed run goes on exactly.
        self.register_buffer("baseline", torch.zeros(()))

    def encode(self, x) -> Encoded:
        f = self.conv(x)  # B x C x 2 x 2k
        b, c, h, w = f.shape
        f = f + self.position(torch.arange(w, device=x.device)).T.reshape(1, c, 1, w)
        regions = f.flatten(2).transpose(1, 2)  # B x (2 * 2k) x C, row-major: (row, column)
        mask = torch.ones(b, h * w, dtype=torch.bool, device=x.device)
        return Encoded(regions, mask, regions.mean(1))

    def forward(self, x, y, noise=None, expected=None):
        return self.decoder(self.encode(x), shift_right(y, BOS), noise, expected)

    @torch.no_grad()
    def read(self, x, max_len, soft_read=False):
        return self.decoder.greedy(self.encode(x), BOS, EOS, max_len, soft_read)


class DigitStrips:
    def build_model(self, cfg):
        return StripReader(cfg.model, cfg.max_digits)

    def batch(self, cfg, step, g, device):
        return strip_batch(cfg, cfg.batch_size, g, device)

    def loss(self, model, b, cfg):
        out = model(b["x"], b["y"], b.get("noise"), b.get("expected"))
        nll = sequence_loss(out.logits, b["y"])
        loss, shown = nll, {"loss": nll}
        steps = b["y"].shape[1]
        if cfg.coverage > 0:
            penalty = coverage_penalty(out.weights)
            loss = loss + cfg.coverage * penalty / steps  # per output token, as the log-likelihood
            shown["coverage"] = penalty
        if out.log_choice is not None:
            loss = loss + reinforce_loss(model, out, b, cfg)
        return loss, shown

    def evaluate(self, model, cfg, device):
        scores = {"test_sequence_accuracy": sequence_accuracy(model, cfg, device)}
        if cfg.model.read == "hard":  # as Xu et al.'s code does at test time
            scores["test_sequence_accuracy_soft_read"] = sequence_accuracy(model, cfg, device, soft_read=True)
        return scores


def reinforce_loss(model, out, b, cfg):
    """Xu et al. sec. 4.1: the score-function gradient lambda_r (R - b) d log p(s) for the sampled
    reads, with R a strip's mean log-likelihood per token and b its running mean, plus lambda_e
    times the entropy of the weights. Strips read softly (`expected`) get no REINFORCE term."""
    logp = F.log_softmax(out.logits, -1).gather(-1, b["y"].unsqueeze(-1)).squeeze(-1)  # B x T
    reward = logp.mean(1).detach()
    sampled = (~b["expected"]).to(reward.dtype)
    advantage = (reward - model.baseline) * sampled
    with torch.no_grad():
        model.baseline.mul_(0.9).add_(0.1 * reward.mean())
    score = -(advantage.unsqueeze(1) * out.log_choice).mean()
    return cfg.reinforce * score - cfg.entropy_bonus * entropy(out.weights).mean()


def sequence_accuracy(model, cfg, device, n_digits=None, n=None, soft_read=False) -> float:
    """Share of held-out strips read exactly (every digit and the EOS), greedy decoding; a hard
    reader reads its most likely region, or the expectation with `soft_read`."""
    right, total = 0, 0
    sizes = [n_digits] if n_digits else list(range(cfg.min_digits, cfg.max_digits + 1))
    for k in sizes:
        g = fixed_generator(90_000 + k, device)
        b = strip_batch(cfg, (n or cfg.eval_size) // len(sizes), g, device, "test", k)
        out, _ = model.read(b["x"], k + 1, soft_read)
        if out.shape[1] < k + 1:  # every sequence ended early
            out = F.pad(out, (0, k + 1 - out.shape[1]), value=EOS)
        right += int((out[:, : k + 1] == b["y"]).all(1).sum())
        total += b["y"].shape[0]
    return right / total
