"""Listen, Attend and Spell at toy scale: transcribe sequences of spoken digits.

Utterances join 2-4 FSDD recordings with short silences; features are log-mel frames (25 ms windows,
10 ms hop, 40 bands); a pyramidal bidirectional LSTM listener halves the frame rate at each of its
layers (Chan et al. 2015, sec. 3.1) and the attending speller of `augrnn.attention.seq2seq` emits the digits. Recordings
with take < 5 form the test set (FSDD's own convention), so test utterances use unseen takes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from ..core.config import Config, TrainConfig, bounded, choice, nested
from ..core.devices import per_device
from ..datasets.fsdd import find_fsdd, load_recordings
from .seq2seq import DIGIT_BOS as BOS
from .seq2seq import DIGIT_EOS as EOS
from .seq2seq import DIGIT_VOCAB as VOCAB
from .seq2seq import Decoder, Encoded, sequence_loss, shift_right

RATE, WIN, HOP, BANDS = 8000, 200, 80, 40


@dataclass(frozen=True)
class ListenerConfig(Config):
    attention: str = choice("additive", ("additive", "dot", "general", "none"))
    hidden: int = bounded(64, 1, 4096)
    pyramid: int = bounded(3, 0, 5)  # layers that halve the time resolution
    # The listener's recurrent layers. LAS's are LSTMs (pBLSTM, sec. 3.1), which the chapter uses. "gru",
    # what this book used first, stays the default: the reuse rule reads a field missing from a stored
    # run as its default, so runs stored before this field (GRUs) are never taken for LSTM runs.
    cell: str = choice("gru", ("gru", "lstm"))


@dataclass(frozen=True)
class SpeechConfig(TrainConfig):
    model: ListenerConfig = nested(ListenerConfig)
    min_digits: int = bounded(2, 1, 10)
    max_digits: int = bounded(4, 1, 10)
    eval_size: int = bounded(200, 1, 100_000)


def mel_filterbank(n_fft: int = 256, bands: int = BANDS, rate: int = RATE) -> torch.Tensor:
    """Triangular filters evenly spaced on the mel scale: bands x (n_fft // 2 + 1)."""
    mel = lambda f: 2595 * math.log10(1 + f / 700)
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)
    edges = torch.tensor([hz(m) for m in torch.linspace(0, mel(rate / 2), bands + 2).tolist()])
    freqs = torch.linspace(0, rate / 2, n_fft // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return torch.clamp(torch.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), min=0)


def log_mel(audio: torch.Tensor) -> torch.Tensor:
    """audio: samples -> frames x BANDS log-mel energies."""
    spec = (
        torch.stft(
            audio, n_fft=256, hop_length=HOP, win_length=WIN, window=torch.hann_window(WIN), return_complex=True
        ).abs()
        ** 2
    )
    return torch.log(mel_filterbank() @ spec + 1e-6).T


@lru_cache(maxsize=2)
def recordings(path: str | None = None):
    """{split: [(digit, features frames x BANDS)]}, features normalised by the training mean and sd."""
    recs = load_recordings(find_fsdd(path))
    split = {"train": [], "test": []}
    for r in recs:
        feats = log_mel(torch.from_numpy(r["audio"]))
        split["test" if r["take"] < 5 else "train"].append((r["digit"], feats))
    allf = torch.cat([f for _, f in split["train"]])
    mean, sd = allf.mean(0), allf.std(0)
    return {k: [(d, (f - mean) / sd) for d, f in v] for k, v in split.items()}


GAP = 10  # frames of silence after each recording


@per_device
def _packed(split: str, path: str | None):
    """One split's recordings moved to the device once: all frames end to end (F x BANDS), each
    recording's first frame and length, its digit, and the silence level (the quietest frame of the
    first 50 recordings)."""
    data = recordings(path)[split]
    lengths = torch.tensor([len(f) for _, f in data])
    starts = lengths.cumsum(0) - lengths
    silence = min(f.min() for _, f in data[:50])
    frames = torch.cat([f for _, f in data])
    digits = torch.tensor([d for d, _ in data])
    return frames, starts, lengths, digits, silence


def speech_batch(
    cfg: SpeechConfig, batch: int, g: torch.Generator, device, split="train", n_digits=None, path: str | None = None
):
    """Utterances of k recordings (k per batch) joined by silences, built on the device by one gather:
    x B x T x BANDS (zero-padded), len B, y B x (k+1) ending in EOS. `path`: where FSDD is (else found
    as `augrnn.datasets.fsdd` says)."""
    frames, starts, lengths, digits, silence = _packed(split, path, device)
    k = n_digits or random.Random(g.initial_seed()).randint(cfg.min_digits, cfg.max_digits)
    # Which recordings: drawn on the host from the step's seed (the same numbers on every device).
    host = torch.randint(0, len(lengths), (batch, k), generator=torch.Generator().manual_seed(g.initial_seed()))
    picks = host.to(device)
    seg = lengths[picks] + GAP  # B x k: frames of each recording with its silence
    ends = seg.cumsum(1)
    total = ends[:, -1]
    # The longest utterance from the host's copy of the lengths: no copy back from a GPU at every step.
    longest = int((_packed(split, path, "cpu")[2][host] + GAP).sum(1).max())
    t = torch.arange(longest, device=picks.device).expand(batch, -1).contiguous()  # B x T
    j = torch.searchsorted(ends, t, right=True).clamp(max=k - 1)  # which recording frame t falls in
    pick = picks.gather(1, j)
    within = t - (ends - seg).gather(1, j)  # frame number inside that recording
    speaking = within < lengths[pick]
    x = frames[torch.where(speaking, starts[pick] + within, 0)]
    x = torch.where(speaking.unsqueeze(-1), x, silence) * (t < total.unsqueeze(1)).unsqueeze(-1)
    eos = torch.full((batch, 1), EOS, device=picks.device)
    return {"x": x, "len": total, "y": torch.cat([digits[picks], eos], 1)}


class PyramidalListener(nn.Module):
    """A bidirectional RNN, then `pyramid` of them that each see pairs of consecutive frames (halving
    time). `cell`: "lstm" (LAS's pBLSTM; on the CPU torch runs it, forward and backward, as one oneDNN
    kernel per layer, about twice as fast as a GRU of the same width) or "gru"."""

    def __init__(self, inputs: int, hidden: int, pyramid: int, cell: str = "gru"):
        super().__init__()
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.first = rnn(inputs, hidden, batch_first=True, bidirectional=True)
        self.layers = nn.ModuleList(
            rnn(4 * hidden, hidden, batch_first=True, bidirectional=True) for _ in range(pyramid)
        )
        self.dim = 2 * hidden

    def forward(self, x, lengths):
        h, _ = self.first(x)
        lengths = torch.as_tensor(lengths, device=x.device)
        for layer in self.layers:
            t = h.shape[1] // 2 * 2
            h = h[:, :t].reshape(h.shape[0], t // 2, 2 * h.shape[2])  # concatenate frame pairs
            lengths = lengths // 2
            h, _ = layer(h)
        mask = torch.arange(h.shape[1], device=x.device).unsqueeze(0) < lengths.unsqueeze(1)
        summary = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        return Encoded(h, mask, summary)


class ListenAttendSpell(nn.Module):
    def __init__(self, cfg: ListenerConfig):
        super().__init__()
        self.listener = PyramidalListener(BANDS, cfg.hidden, cfg.pyramid, cfg.cell)
        self.speller = Decoder(
            VOCAB,
            self.listener.dim,
            embed=16,
            hidden=cfg.hidden,
            attention=None if cfg.attention == "none" else cfg.attention,
        )

    def forward(self, x, lengths, y):
        return self.speller(self.listener(x, lengths), shift_right(y, BOS))

    @torch.no_grad()
    def transcribe(self, x, lengths, max_len):
        return self.speller.greedy(self.listener(x, lengths), BOS, EOS, max_len)


class SpokenDigits:
    """Plugs spoken digits into augrnn.core.train.fit. `path`: where FSDD is (else found as
    `augrnn.datasets.fsdd` says)."""

    def __init__(self, path=None):
        self.path = None if path is None else str(path)

    def build_model(self, cfg):
        return ListenAttendSpell(cfg.model)

    def batch(self, cfg, step, g, device):
        return speech_batch(cfg, cfg.batch_size, g, device, path=self.path)

    def loss(self, model, b, cfg):
        logits = model(b["x"], b["len"], b["y"]).logits
        loss = sequence_loss(logits, b["y"])
        return loss, {"loss": loss}

    def evaluate(self, model, cfg, device):
        return {"test_digit_error": digit_error_rate(model, cfg, device, path=self.path)}


def edit_distance(a, b) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def digit_error_rate(model, cfg, device, n=None, path=None) -> float:
    """Edit distance between transcribed and true digit strings over held-out utterances, per digit."""
    g = torch.Generator().manual_seed(77_000)
    b = speech_batch(cfg, n or cfg.eval_size, g, device, "test", path=path)
    out, _ = model.transcribe(b["x"], b["len"], cfg.max_digits + 1)
    errors = total = 0
    for hyp, ref in zip(out.tolist(), b["y"].tolist()):
        hyp = hyp[: hyp.index(EOS)] if EOS in hyp else hyp
        ref = ref[: ref.index(EOS)]
        errors += edit_distance(hyp, ref)
        total += len(ref)
    return errors / total
