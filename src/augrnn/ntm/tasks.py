"""The NTM paper's algorithmic tasks (Graves et al. 2014, section 4), their cost and the experiment.

All sequences of one batch share their length (and repeat count or item count), drawn per batch from
the seeded step generator; the paper draws them per sequence. Inputs and targets are B x T x channels
with a mask B x T marking where the target counts.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from ..core.config import ConfigError, TrainConfig, bounded, choice, nested
from ..core.devices import fixed_generator
from .model import NTM, NTMModelConfig, build
from .more_tasks import ngram_batch, optimal_ngram_bits, priority_sort_batch


@dataclass(frozen=True)
class NTMConfig(TrainConfig):
    task: str = choice("copy", ("copy", "repeat_copy", "associative_recall", "ngrams", "priority_sort"))
    model: NTMModelConfig = nested(NTMModelConfig)
    bits: int = bounded(8, 1, 64)
    min_len: int = bounded(1, 1, 1000)
    max_len: int = bounded(20, 1, 1000)  # copy: sequence length; repeat copy: too
    max_repeats: int = bounded(10, 1, 100)  # repeat copy
    # How the repeat count is given: "normalised" to mean 0 and variance 1 over 1..max_repeats (the
    # paper, sec. 4.2); "fraction": count / max_repeats (our first runs).
    repeat_channel: str = choice("fraction", ("fraction", "normalised"))
    min_items: int = bounded(2, 2, 100)  # associative recall
    max_items: int = bounded(6, 2, 100)
    item_len: int = bounded(3, 1, 20)
    ngram_context: int = bounded(5, 1, 12)  # dynamic N-grams: bits of context (6-grams: 5)
    ngram_len: int = bounded(200, 2, 10000)  # bits per sequence
    sort_items: int = bounded(20, 1, 1000)  # priority sort: vectors in, and the top `sort_keep` out
    sort_keep: int = bounded(16, 1, 1000)
    curriculum: int = bounded(0, 0)  # steps over which max_len (max_items) grows from min to max
    eval_size: int = bounded(64, 1, 4096)
    # "bits": the paper's cost, summed over the output bits (in bits); "mean_bce": binary cross-entropy
    # averaged over the output bits, as pytorch-ntm trains (the metric `cost` stays in bits).
    loss: str = choice("bits", ("bits", "mean_bce"))

    def __post_init__(self):
        super().__post_init__()
        if self.min_len > self.max_len:
            raise ConfigError(f"NTMConfig.min_len = {self.min_len} must be <= max_len = {self.max_len}")
        if self.min_items > self.max_items:
            raise ConfigError(f"NTMConfig.min_items = {self.min_items} must be <= max_items = {self.max_items}")
        if self.sort_keep > self.sort_items:
            raise ConfigError(f"NTMConfig.sort_keep = {self.sort_keep} must be <= sort_items = {self.sort_items}")
        if self.ngram_len <= self.ngram_context:
            raise ConfigError(f"NTMConfig.ngram_len = {self.ngram_len} must be > ngram_context = {self.ngram_context}")
        if not self.keep_weights and self.task != "repeat_copy":
            raise ConfigError(
                f"NTMConfig.keep_weights = False is allowed for task 'repeat_copy' only, not {self.task!r}"
            )


def channels(cfg: NTMConfig) -> tuple[int, int]:
    """(input channels, output channels) of a task."""
    if cfg.task == "copy":
        return cfg.bits + 1, cfg.bits
    if cfg.task == "repeat_copy":
        return cfg.bits + 2, cfg.bits + 1
    if cfg.task == "ngrams":
        return 1, 1
    return cfg.bits + 2, cfg.bits  # associative recall, priority sort


# --- generators -----------------------------------------------------------------------------------


def _bits(g, device, *shape):
    return torch.randint(0, 2, shape, generator=g, device=device).float()


def copy_batch(cfg, batch, length, g, device):
    """Sequence of `length` random vectors, a delimiter flag, then the sequence again as target."""
    seq = _bits(g, device, batch, length, cfg.bits)
    t = 2 * length + 1
    x = torch.zeros(batch, t, cfg.bits + 1, device=device)
    x[:, :length, : cfg.bits] = seq
    x[:, length, cfg.bits] = 1.0
    y = torch.zeros(batch, t, cfg.bits, device=device)
    y[:, length + 1 :] = seq
    mask = torch.zeros(batch, t, device=device)
    mask[:, length + 1 :] = 1.0
    return {"x": x, "y": y, "mask": mask}


def repeat_copy_batch(cfg, batch, length, repeats, g, device):
    """Sequence, delimiter, the repeat count on its own channel (see NTMConfig.repeat_channel); the
    target is the sequence `repeats` times, then an end marker on an extra output channel."""
    seq = _bits(g, device, batch, length, cfg.bits)
    out_len = length * repeats + 1
    t = length + 2 + out_len
    x = torch.zeros(batch, t, cfg.bits + 2, device=device)
    x[:, :length, : cfg.bits] = seq
    x[:, length, cfg.bits] = 1.0
    x[:, length + 1, cfg.bits + 1] = repeat_signal(cfg, repeats)
    y = torch.zeros(batch, t, cfg.bits + 1, device=device)
    y[:, length + 2 : t - 1, : cfg.bits] = seq.repeat(1, repeats, 1)
    y[:, t - 1, cfg.bits] = 1.0
    mask = torch.zeros(batch, t, device=device)
    mask[:, length + 2 :] = 1.0
    return {"x": x, "y": y, "mask": mask}


def repeat_signal(cfg, repeats: int) -> float:
    """The repeat channel's value. "normalised": (R - mean) / sd of R uniform on 1..max_repeats,
    mean (1 + max) / 2 and variance (max^2 - 1) / 12 (0 when max_repeats is 1)."""
    if cfg.repeat_channel == "fraction":
        return repeats / cfg.max_repeats
    n = cfg.max_repeats
    return (repeats - (1 + n) / 2) / math.sqrt((n * n - 1) / 12) if n > 1 else 0.0


def recall_batch(cfg, batch, items, g, device):
    """`items` items of item_len vectors, each after a delimiter; then a query item between two query
    delimiters; the target is the item that followed the query."""
    k, w = cfg.item_len, cfg.bits
    content = _bits(g, device, batch, items, k, w)
    query = torch.randint(0, items - 1, (batch,), generator=g, device=device)
    rows = torch.arange(batch, device=device)
    story = torch.zeros(batch, items, k + 1, w + 2, device=device)
    story[:, :, 0, w] = 1.0
    story[:, :, 1:, :w] = content
    ask = torch.zeros(batch, k + 2, w + 2, device=device)
    ask[:, 0, w + 1] = 1.0
    ask[:, k + 1, w + 1] = 1.0
    ask[:, 1 : k + 1, :w] = content[rows, query]
    answer = torch.zeros(batch, k, w + 2, device=device)
    x = torch.cat([story.reshape(batch, items * (k + 1), w + 2), ask, answer], dim=1)
    t = x.shape[1]
    y = torch.zeros(batch, t, w, device=device)
    y[:, t - k :] = content[rows, query + 1]
    mask = torch.zeros(batch, t, device=device)
    mask[:, t - k :] = 1.0
    return {"x": x, "y": y, "mask": mask}


def sample_batch(
    cfg: NTMConfig, batch: int, g, device, step: int | None = None, size: int | None = None, repeats: int | None = None
):
    """One training batch; `size` fixes the length (copy, repeat copy) or item count (recall), and
    `repeats` the repeat count of repeat copy (it may exceed cfg.max_repeats: the paper's fig. 8).

    Lengths come from a host-side RNG seeded like `g`, so choosing a shape never waits on the device.
    """
    rng = random.Random(g.initial_seed())

    def ceiling(lo, hi):
        if not cfg.curriculum or step is None:
            return hi
        return lo + round((hi - lo) * min(1.0, step / cfg.curriculum))

    if cfg.task == "copy":
        n = size or rng.randint(cfg.min_len, ceiling(cfg.min_len, cfg.max_len))
        return copy_batch(cfg, batch, n, g, device)
    if cfg.task == "repeat_copy":
        n = size or rng.randint(cfg.min_len, ceiling(cfg.min_len, cfg.max_len))
        reps = repeats or rng.randint(1, cfg.max_repeats)
        return repeat_copy_batch(cfg, batch, n, reps, g, device)
    if cfg.task == "ngrams":
        return ngram_batch(batch, size or cfg.ngram_len, cfg.ngram_context, g, device)
    if cfg.task == "priority_sort":
        return priority_sort_batch(batch, size or cfg.sort_items, cfg.sort_keep, cfg.bits, g, device)
    n = size or rng.randint(cfg.min_items, ceiling(cfg.min_items, cfg.max_items))
    return recall_batch(cfg, batch, n, g, device)


# --- cost ----------------------------------------------------------------------------------------


def bits_per_sequence(logits, b) -> torch.Tensor:
    """The paper's cost: binary cross-entropy in bits, summed over the output sequence, per sequence."""
    bce = F.binary_cross_entropy_with_logits(logits, b["y"], reduction="none").sum(-1)
    return (bce * b["mask"]).sum(1).mean() / math.log(2)


def bit_errors(logits, b) -> torch.Tensor:
    """Wrong bits per sequence (outputs thresholded at 0.5), B."""
    wrong = ((logits > 0).float() != b["y"]).float().sum(-1)
    return (wrong * b["mask"]).sum(1)


# --- the experiment ------------------------------------------------------------------------------


class NTMTask:
    """Plugs a task and an NTM (or the LSTM baseline) into augrnn.core.train.fit."""

    def build_model(self, cfg: NTMConfig):
        return build(cfg.model, *channels(cfg))

    def batch(self, cfg, step, g, device):
        return sample_batch(cfg, cfg.batch_size, g, device, step=step)

    @torch.no_grad()
    def evaluations(self, model, cfg: NTMConfig) -> dict:
        """What the chapter measures on a repeat-copy run that keeps no weights (cfg.keep_weights), on
        the CPU as the chapter does: generalisation (32 sequences per test, as `generalisation` draws
        them) at the training length and at twice it for every repeat count, and at twice the repeats."""
        model = model.cpu().eval()
        sizes, counts = [cfg.max_len, 2 * cfg.max_len], range(1, cfg.max_repeats + 1)
        rows = [row for count in counts for row in generalisation(model, cfg, sizes, repeats=count)]
        return {"generalisation": rows + generalisation(model, cfg, [cfg.max_len], repeats=2 * cfg.max_repeats)}

    def compile_model(self, model):
        """The NTM's time step as one compiled graph (forward and backward), used in training; the loop
        over time stays in Python, so sequences of any length reuse it. Evaluation and tracing run the
        eager step. The LSTM baseline is one fused nn.LSTM call already."""
        if isinstance(model, NTM):
            model.train_step = torch.compile(model.step, dynamic=False)

    def loss(self, model, b, cfg):
        logits = model(b["x"])
        cost = bits_per_sequence(logits, b)
        if cfg.loss == "mean_bce":
            per_bit = F.binary_cross_entropy_with_logits(logits, b["y"], reduction="none").mean(-1)
            return (per_bit * b["mask"]).sum() / b["mask"].sum(), {"cost": cost}
        return cost, {"cost": cost}

    def eval_sizes(self, cfg):
        if cfg.task == "associative_recall":
            return list(range(cfg.min_items, cfg.max_items + 1))
        if cfg.task == "ngrams":
            return [cfg.ngram_len]
        if cfg.task == "priority_sort":
            return [cfg.sort_items]
        return sorted({cfg.min_len, (cfg.min_len + cfg.max_len) // 2, cfg.max_len})

    def evaluate(self, model, cfg, device, sizes=None):
        """Held-out cost and perfect-sequence share on a fixed set, over the training range."""
        costs, perfect, scores = [], [], {}
        for size in sizes or self.eval_sizes(cfg):
            g = fixed_generator(7_000_000 + size, device)
            b = sample_batch(cfg, cfg.eval_size, g, device, size=size)
            logits = model(b["x"])
            costs.append(bits_per_sequence(logits, b))
            perfect.append((bit_errors(logits, b) == 0).float().mean())
            if cfg.task == "ngrams":  # the Bayesian optimum's cost on the same sequences (eq. 10)
                scores["test_optimal_cost"] = float(optimal_ngram_bits(b["x"][..., 0], cfg.ngram_context).mean())
        scores |= {"test_cost": float(torch.stack(costs).mean()), "test_perfect": float(torch.stack(perfect).mean())}
        return scores


# --- analysis for the chapter ---------------------------------------------------------------------


def sequences_to_converge(metrics, threshold: float = 0.1, column: str = "test_cost", at: str = "examples"):
    """Training sequences seen (or another column of the metrics, `at`: "step", "seconds") when the
    held-out cost first fell below `threshold` (NaN if never)."""
    hit = metrics[metrics[column] < threshold]
    return float(hit[at].iloc[0]) if len(hit) else float("nan")


def worst_after(metrics, below: float = 1.0, column: str = "test_cost") -> float:
    """The highest held-out cost after the cost first fell below `below` bits (NaN if it never did):
    a run that has learnt the task and then collapses shows a large value here."""
    hit = (metrics[column] < below).to_numpy().nonzero()[0]
    return float(metrics[column].iloc[hit[0] :].max()) if len(hit) else float("nan")


def recipe_summary(runs: dict, labels, thresholds=(1.0, 0.1)):
    """One row per copy-task run of the NTM whose model label is in `labels` (recipe = label, seed):
    updates, sequences and training seconds until the held-out cost first fell below each threshold
    (bits per sequence; NaN if it never did), the worst cost after first reaching 1 bit, and the final
    cost. `runs` maps (task, model, seed) -> run. Runs stored before the metrics kept `seconds` get the
    run's wall time in proportion to the steps."""
    import pandas as pd

    rows = []
    for (task, model, seed), r in runs.items():
        if task != "copy" or model not in labels:
            continue
        m = r.metrics
        if "seconds" not in m:
            m = m.assign(seconds=r.provenance["wall_time_s"] * m["step"] / r.config.steps)
        rows.append(
            {
                "recipe": model,
                "seed": seed,
                "batch": r.config.batch_size,
                "memory": r.config.model.memory_init,
                **{
                    f"{what} to {t:g} bit": sequences_to_converge(m, t, at=at)
                    for t in thresholds
                    for what, at in (("updates", "step"), ("sequences", "examples"), ("seconds", "seconds"))
                },
                "worst cost after 1 bit": worst_after(m),
                "final cost": float(m["test_cost"].iloc[-1]),
                "threads": r.provenance["hardware"].get("torch_threads"),
                "compiled": bool(r.provenance.get("compiled", r.provenance["config"].get("compile", False))),
            }
        )
    return pd.DataFrame(rows)


@torch.no_grad()
def generalisation(model, cfg: NTMConfig, sizes, n: int = 32, seed: int = 123, repeats: int | None = None):
    """Bit errors and cost per sequence at each length (copy, repeat copy) or item count (recall);
    `repeats` fixes repeat copy's count (otherwise drawn from 1..cfg.max_repeats)."""
    device = next(model.parameters()).device
    rows = []
    for size in sizes:
        g = fixed_generator(seed + size, device)
        b = sample_batch(cfg, n, g, device, size=size, repeats=repeats)
        # A random initial memory (Collier & Beel) is drawn from torch's global generator: fixed here per
        # test like the data, so the numbers do not depend on what ran before (the caller's state is kept).
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed + size)
            logits = model(b["x"])
        errors = bit_errors(logits, b)
        if cfg.task == "repeat_copy":  # of which on the end-marker channel (the paper's fig. 8 discusses it)
            wrong = ((logits[..., cfg.bits] > 0).float() != b["y"][..., cfg.bits]).float()
            extra = {"marker_errors": float((wrong * b["mask"]).sum(1).mean())}
        else:
            extra = {}
        rows.append(
            {
                "size": size,
                **({"repeats": repeats} if repeats else {}),
                "bit_errors": float(errors.mean()),
                "perfect": float((errors == 0).float().mean()),
                "cost": float(bits_per_sequence(logits, b)),
                **extra,
            }
        )
    return rows
