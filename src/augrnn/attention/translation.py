"""English -> French translation with and without attention (Bahdanau et al. 2014, at small scale).

The corpus is built once per config, from `augrnn.datasets.cldr` (CLDR locale data, the default) or
from the Tatoeba pairs (`augrnn.datasets.tatoeba`, where they are found), and encoded to padded tensors on the device;
a training step samples rows of it. BLEU comes from sacrebleu on detokenised
(space-joined) output, overall and by source length, and separately for sentences without unknown
words, as in Bahdanau's Table 1.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch.nn import functional as F

from ..core.config import Config, TrainConfig, bounded, choice, nested
from ..core.devices import per_device
from ..datasets import cldr, tatoeba
from .seq2seq import Decoder, RealSteps, TextEncoder, shift_right

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")


@dataclass(frozen=True)
class Seq2SeqConfig(Config):
    attention: str = choice("additive", ("additive", "dot", "scaled_dot", "general", "none"))
    embed: int = bounded(64, 1, 4096)
    hidden: int = bounded(128, 1, 4096)  # the decoder's; the encoder has hidden / 2 each way


@dataclass(frozen=True)
class TranslationConfig(TrainConfig):
    model: Seq2SeqConfig = nested(Seq2SeqConfig)
    train_pairs: int = bounded(20000, 10, 10_000_000)
    test_pairs: int = bounded(500, 10, 1_000_000)
    max_clauses: int = bounded(4, 1, 20)
    data_seed: int = bounded(0, 0)
    max_out: int = bounded(120, 1, 10000)
    beam: int = bounded(1, 1, 64)  # 1: greedy decoding
    corpus: str = choice("cldr", ("cldr", "tatoeba"))
    max_tokens: int = bounded(50, 1, 1000)  # Tatoeba only: longer pairs are left out


class Vocab:
    def __init__(self, sentences):
        words = sorted({w for s in sentences for w in s})
        self.itos = list(SPECIALS) + words
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, words, eos=False):
        ids = [self.stoi.get(w, UNK) for w in words]
        return ids + [EOS] if eos else ids

    def decode(self, ids):
        out = []
        for i in ids:
            if i == EOS:
                break
            if i not in (PAD, BOS):
                out.append(self.itos[i])
        return out


def pad(rows, length=None):
    length = length or max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (length - len(r)) for r in rows])


@lru_cache(maxsize=4)
def corpus(
    train_pairs: int,
    test_pairs: int,
    max_clauses: int,
    data_seed: int,
    kind: str = "cldr",
    path: str | None = None,
    max_tokens: int = 50,
):
    """The tokenised corpus, its vocabularies (from the training split only) and encodings.

    kind "cldr" builds sentences of up to `max_clauses` clauses; kind "tatoeba" draws pairs of up to
    `max_tokens` tokens from the file `augrnn.datasets.tatoeba.find_tatoeba(path)` finds."""
    if kind == "tatoeba":
        found = tatoeba.find_tatoeba(path)
        train = tatoeba.make_pairs(found, train_pairs, "train", data_seed, max_tokens)
        test = tatoeba.make_pairs(found, test_pairs, "test", data_seed, max_tokens)
    else:
        train = cldr.make_pairs(train_pairs, "train", data_seed, max_clauses)
        test = cldr.make_pairs(test_pairs, "test", data_seed, max_clauses)
    src_vocab, tgt_vocab = Vocab(e for e, _ in train), Vocab(f for _, f in train)
    enc = lambda pairs: (
        pad([src_vocab.encode(e) for e, _ in pairs]),
        [len(e) for e, _ in pairs],
        pad([tgt_vocab.encode(f, eos=True) for _, f in pairs]),
    )
    return {
        "train": train,
        "test": test,
        "src": src_vocab,
        "tgt": tgt_vocab,
        "train_enc": enc(train),
        "test_enc": enc(test),
    }


class Seq2Seq(torch.nn.Module):
    def __init__(self, cfg: Seq2SeqConfig, src_size: int, tgt_size: int):
        super().__init__()
        self.encoder = TextEncoder(src_size, cfg.embed, cfg.hidden // 2)
        self.decoder = Decoder(
            tgt_size, self.encoder.dim, cfg.embed, cfg.hidden, None if cfg.attention == "none" else cfg.attention
        )

    def forward(self, src, lengths, tgt, tgt_lengths=None):
        """tgt_lengths (host list): the real target tokens of each row, EOS included; given, the decoder
        runs no step past them (see `Decoder.forward`)."""
        return self.decoder(self.encoder(src, lengths), shift_right(tgt, BOS), lengths=tgt_lengths)

    def real_steps(self, src, lengths, tgt, tgt_lengths) -> RealSteps:
        """The decoder's real output steps, packed (`Decoder.real_steps`)."""
        return self.decoder.real_steps(self.encoder(src, lengths), shift_right(tgt, BOS), tgt_lengths)

    @torch.no_grad()
    def translate(self, src, lengths, max_len, beam=1):
        enc = self.encoder(src, lengths)
        if beam == 1:
            return self.decoder.greedy(enc, BOS, EOS, max_len)
        return self.decoder.beam(enc, BOS, EOS, max_len, beam), None


def _data(cfg: TranslationConfig, path=None):
    return corpus(
        cfg.train_pairs,
        cfg.test_pairs,
        cfg.max_clauses,
        cfg.data_seed,
        cfg.corpus,
        None if path is None else str(path),
        cfg.max_tokens,
    )


@per_device
def _on_device(cfg: TranslationConfig, path):
    """The encoded training split, moved to the device once."""
    src, lengths, tgt = _data(cfg, path)["train_enc"]
    return src, lengths, tgt, (tgt != PAD).sum(1).tolist()


class Translation:
    """Plugs translation into augrnn.core.train.fit. `path`: where the Tatoeba pairs are, for configs
    with corpus="tatoeba" (otherwise found as `augrnn.datasets.tatoeba` says)."""

    def __init__(self, path=None):
        self.path = None if path is None else str(path)

    def build_model(self, cfg):
        d = _data(cfg, self.path)
        return Seq2Seq(cfg.model, len(d["src"]), len(d["tgt"]))

    def batch(self, cfg, step, g, device):
        src, lengths, tgt, tgt_len = _on_device(cfg, self.path, device)
        # Rows are drawn on the host: their lengths are needed there (for packing), and known there.
        rows = random.Random(g.initial_seed()).sample(range(len(lengths)), cfg.batch_size)
        src_len, out_len = [lengths[r] for r in rows], [tgt_len[r] for r in rows]
        idx = torch.tensor(rows, device=device)
        return {"src": src[idx, : max(src_len)], "len": src_len, "tgt": tgt[idx, : max(out_len)], "tgt_len": out_len}

    def loss(self, model, b, cfg):
        """Cross-entropy per real target token (EOS included). The decoder runs and scores only the
        real steps: the same mean over the same tokens as the padded logits with PAD ignored (to
        float rounding, tested), without B x T x V padding."""
        real = model.real_steps(b["src"], b["len"], b["tgt"], b["tgt_len"])
        loss = F.cross_entropy(real.logits, b["tgt"].flatten()[real.index])
        return loss, {"loss": loss}

    def evaluate(self, model, cfg, device, n: int = 200):
        return {"test_bleu": bleu_scores(model, cfg, device, n, path=self.path)["bleu"]}


def translate_test(model, cfg, device, n=None, beam=None, path=None):
    """Hypotheses and references (token lists) for the first n test pairs."""
    d = _data(cfg, path)
    src, lengths, _ = d["test_enc"]
    n = min(n or len(lengths), len(lengths))
    hyps = []
    for start in range(0, n, 128):
        stop = min(n, start + 128)
        lens = lengths[start:stop]
        out, _ = model.translate(src[start:stop, : max(lens)].to(device), lens, cfg.max_out, beam or cfg.beam)
        hyps += [d["tgt"].decode(row) for row in out.tolist()]
    return hyps, [f for _, f in d["test"][:n]], [e for e, _ in d["test"][:n]]


def bleu_scores(model, cfg, device, n=None, beam=None, path=None) -> dict:
    import sacrebleu

    hyps, refs, srcs = translate_test(model, cfg, device, n, beam, path)
    score = lambda h, r: (
        sacrebleu.corpus_bleu([" ".join(x) for x in h], [[" ".join(x) for x in r]], tokenize="none").score
        if h
        else float("nan")
    )
    known = _data(cfg, path)["src"].stoi
    no_unk = [i for i, s in enumerate(srcs) if all(w in known for w in s)]
    return {
        "bleu": score(hyps, refs),
        "bleu_no_unk": score([hyps[i] for i in no_unk], [refs[i] for i in no_unk]),
        "hyps": hyps,
        "refs": refs,
        "srcs": srcs,
    }


def bleu_by_length(scores: dict, bins=(0, 15, 30, 45, 60, 200), known=None):
    """BLEU per source-length group: scores maps (model, seed) to `bleu_scores` results; one row per
    model, seed and group with its sentence count (Bahdanau fig. 2). With `known` (the source
    vocabulary), each group is also scored on its sentences without unknown words alone (column
    "sentences": "all" or "no unknown words"), and rows give the unknown words per sentence."""
    import pandas as pd
    import sacrebleu

    rows = []
    for (name, seed), s in scores.items():
        lengths = [len(x) for x in s["srcs"]]
        unknown = [sum(w not in known for w in x) for x in s["srcs"]] if known is not None else None
        for lo, hi in zip(bins[:-1], bins[1:]):
            group = [i for i, n in enumerate(lengths) if lo < n <= hi]
            subsets = {"all": group}
            if known is not None:
                subsets["no unknown words"] = [i for i in group if unknown[i] == 0]
            for subset, idx in subsets.items():
                if not idx:
                    continue
                b = sacrebleu.corpus_bleu(
                    [" ".join(s["hyps"][i]) for i in idx], [[" ".join(s["refs"][i]) for i in idx]], tokenize="none"
                ).score
                row = {"model": name, "seed": seed, "source length": f"{lo + 1}-{hi}", "BLEU": b, "n": len(idx)}
                if known is not None:
                    row |= {"sentences": subset, "unknown words per sentence": sum(unknown[i] for i in idx) / len(idx)}
                rows.append(row)
    return pd.DataFrame(rows)
