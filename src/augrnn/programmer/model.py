"""The Neural Programmer (Neelakantan, Le & Sutskever 2015) on tables of numbers: the selector and
history RNN of section 2 over the operations of `augrnn.programmer.operations`, the loss of section
2.5, and the table-question experiment."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import Config, TrainConfig, bounded, choice, nested
from ..core.devices import fixed_generator
from . import tables
from .operations import OP, OPERATIONS, execute


@dataclass(frozen=True)
class ProgrammerModelConfig(Config):
    steps_t: int = bounded(4, 1, 16)  # T, the number of selector steps
    hidden: int = bounded(128, 1, 4096)
    embed: int = bounded(64, 1, 1024)
    softness: float = bounded(5.0, 0.0)  # width of the pivot's straight-through sigmoid; 0: no gradient
    step_input: bool = choice(False, (False, True))  # ours: the history RNN also reads which step it is


@dataclass(frozen=True)
class ProgrammerConfig(TrainConfig):
    rows: int = bounded(10, 1, 1000)
    columns: int = bounded(3, 1, len(tables.NAMES))
    question_types: str = choice("all", ("all", "single-column"))
    model: ProgrammerModelConfig = nested(ProgrammerModelConfig)
    huber_delta: float = bounded(10.0, 0.0, None, lo_open=True)
    lookup_weight: float = bounded(50.0, 0.0)  # lambda: the lookup loss's weight beside the Huber loss
    eval_size: int = bounded(2048, 1, 1 << 20)


class NeuralProgrammer(nn.Module):
    def __init__(self, cfg: ProgrammerModelConfig):
        super().__init__()
        H = cfg.hidden
        self.steps = cfg.steps_t
        self.softness = cfg.softness
        self.embed = nn.Embedding(len(tables.VOCAB), cfg.embed, padding_idx=0)
        self.question = nn.GRU(cfg.embed, H, batch_first=True)
        self.op_vectors = nn.Parameter(torch.randn(len(OPERATIONS), H) * 0.1)  # U in the paper
        self.column_proj = nn.Linear(cfg.embed, H)  # column names -> the selector's space
        self.step_input = cfg.step_input
        self.history = nn.GRUCell(2 * H + (cfg.steps_t if cfg.step_input else 0), H)
        self.attend = nn.Linear(H, H, bias=False)  # attention over question states at each step
        self.op_in = nn.Linear(3 * H, H)
        self.col_in = nn.Linear(3 * H, H)
        self.pivot_vectors = nn.Linear(H, 2, bias=False)  # one scoring vector each for greater, lesser
        # Vocabulary ids of the column-name pool; a buffer, so it lives on the model's device.
        self.register_buffer("name_ids", torch.tensor([tables.VOCAB.index(n) for n in tables.NAMES]), persistent=False)

    def forward(self, b):
        tokens, table = b["tokens"], b["table"]
        B = tokens.shape[0]
        states, _ = self.question(self.embed(tokens))  # B x L x H
        real = tokens != 0
        q = states[torch.arange(B, device=tokens.device), real.sum(1) - 1]  # last real token
        name_ids = self.name_ids[b["names"]]  # B x C vocabulary ids
        col_vecs = self.column_proj(self.embed(name_ids))  # B x C x H

        # Pivots (paper, section 2.3): softmax over the question's numbers, scored from the question
        # RNN's state at the word before each number; computed once per question.
        before = states.gather(1, (b["number_pos"] - 1).clamp(min=0)[:, :, None].expand(-1, -1, states.shape[2]))
        present = torch.arange(2, device=tokens.device) < b["n_numbers"][:, None]
        scores = self.pivot_vectors(before).masked_fill(~present[:, :, None], -1e9)  # B x 2 numbers x 2 pivots
        beta = torch.softmax(scores, 1)
        pivots = (beta * b["numbers"][:, :, None]).sum(1)  # B x 2: greater's, lesser's

        h = torch.zeros_like(q)
        c = torch.zeros(B, 2 * q.shape[1], device=q.device)
        p_ops, p_cols = [], []
        step_codes = torch.eye(self.steps, device=q.device)
        for t in range(self.steps):
            if self.step_input:
                c = torch.cat([c, step_codes[t].expand(B, -1)], 1)
            h = self.history(c, h)
            # Attention over the question's states, keyed by the history: each step can read another part.
            # Dot products as a broadcast product and a sum, not a batched matrix-vector product: torch's
            # CPU bmm with an inner or outer size of 1 (here and in its backward) took 85-180 us a call.
            att = torch.softmax((states * self.attend(h)[:, None, :]).sum(2).masked_fill(~real, -1e9), 1)
            ctx = (att[:, :, None] * states).sum(1)
            x = torch.cat([q, ctx, h], 1)
            a_op = torch.softmax(torch.tanh(self.op_in(x)) @ self.op_vectors.T, -1)
            a_col = torch.softmax((col_vecs * torch.tanh(self.col_in(x))[:, None, :]).sum(2), -1)
            p_ops.append(a_op)
            p_cols.append(a_col)
            # The history RNN's next input: the chosen operation's and column's vectors, softly.
            c = torch.cat([a_op @ self.op_vectors, (a_col[:, :, None] * col_vecs).sum(1)], 1)
        p_op, p_col = torch.stack(p_ops, 1), torch.stack(p_cols, 1)
        scalar, lookup, rows = execute(table, p_op, p_col, pivots[:, 0], pivots[:, 1], self.softness)
        return {
            "scalar": scalar,
            "lookup": lookup,
            "rows": rows,
            "p_op": p_op,
            "p_col": p_col,
            "pivots": pivots,
            "beta": beta,
        }


def answer_correct(out, b) -> torch.Tensor:
    """B booleans: the model's answer is the lookup when its last step chose `print` (> 0.5), else the
    scalar; a scalar is right within 0.5 (answers are integers), a lookup when every cell is."""
    says_lookup = out["p_op"][:, -1, OP["print"]] > 0.5
    scalar_ok = (out["scalar"] - b["y"]).abs() < 0.5
    lookup_ok = ((out["lookup"] > 0.5) == (b["lookup"] > 0.5)).flatten(1).all(1)
    return torch.where(b["is_lookup"], says_lookup & lookup_ok, ~says_lookup & scalar_ok)


def discrete(out, b):
    """The induced program: the most likely operation, column and pivot at every step, run exactly."""
    n_ops, n_cols = out["p_op"].shape[-1], out["p_col"].shape[-1]
    hard = {
        "p_op": F.one_hot(out["p_op"].argmax(-1), n_ops).float(),
        "p_col": F.one_hot(out["p_col"].argmax(-1), n_cols).float(),
    }
    numbers = b["numbers"]
    pick = out["beta"].argmax(1)  # B x 2: which number each pivot points to
    pivots = numbers.gather(1, pick)
    scalar, lookup, rows = execute(b["table"], hard["p_op"], hard["p_col"], pivots[:, 0], pivots[:, 1])
    return {
        **hard,
        "scalar": scalar,
        "lookup": lookup,
        "rows": rows,
        "beta": F.one_hot(pick, 2).transpose(1, 2).float(),
    }


# --- experiment -----------------------------------------------------------------------------------


class TableQA:
    """Training on fresh questions every step; evaluation on a fixed held-out set."""

    def build_model(self, cfg):
        return NeuralProgrammer(cfg.model)

    def types(self, cfg):
        if cfg.question_types == "single-column" or cfg.columns < 2:
            return [tables.QUESTION_TYPES.index(t) for t in tables.SINGLE_COLUMN]
        return list(range(len(tables.QUESTION_TYPES)))

    def batch(self, cfg, step, g, device):
        return tables.make_batch(cfg.batch_size, cfg.rows, cfg.columns, g, device, types=self.types(cfg))

    def loss(self, model, b, cfg):
        out = model(b)
        lam = cfg.lookup_weight
        # Paper, section 2.5: Huber loss for scalar answers, log loss for lookup answers (per cell).
        scalar = F.huber_loss(out["scalar"], b["y"], delta=cfg.huber_delta, reduction="none")
        cells = out["lookup"].clamp(1e-6, 1 - 1e-6)
        lookup = F.binary_cross_entropy(cells, b["lookup"], reduction="none").flatten(1).mean(1)
        loss = torch.where(b["is_lookup"], lam * lookup, scalar).mean()
        return loss, {"loss": loss, "accuracy": answer_correct(out, b).float().mean()}

    def evaluate(self, model, cfg, device):
        b = held_out(cfg, device)
        out = model(b)
        return {
            "test_accuracy": float(answer_correct(out, b).float().mean()),
            "test_program_accuracy": float(answer_correct(discrete(out, b), b).float().mean()),
        }


def held_out(cfg, device, size=None, seed=4242, **changes):
    """A fixed evaluation set (its own seed, never a training step's)."""
    g = fixed_generator(seed, device)
    rows, columns = changes.get("rows", cfg.rows), changes.get("columns", cfg.columns)
    return tables.make_batch(
        size or cfg.eval_size, rows, columns, g, device, types=TableQA().types(cfg.replace(columns=columns))
    )


def per_type_accuracy(model, b) -> dict:
    with torch.no_grad():
        out = model(b)
    ok, prog = answer_correct(out, b).float(), answer_correct(discrete(out, b), b).float()
    res = {}
    for i, name in enumerate(tables.QUESTION_TYPES):
        m = b["kind"] == i
        if m.any():
            res[name] = (float(ok[m].mean()), float(prog[m].mean()), int(m.sum()))
    return res


def run_steps(b: dict, program) -> tuple[torch.Tensor, torch.Tensor]:
    """Run one written-out program on every question of a batch: `program` is a list of (operation,
    column slot) in the form of `tables.TEMPLATES` ("A"/"B" for the question's columns, None for any).
    Pivots are the reference ones (x for greater; y, if given, for lesser). Returns (scalar, lookup)."""
    B, _, C = b["table"].shape
    ops = torch.tensor([OP[op] for op, _ in program], device=b["table"].device).expand(B, -1)
    slots = torch.tensor([1 if c == "B" else 0 for _, c in program], device=b["table"].device).expand(B, -1)
    cols = b["columns"].gather(1, slots)
    scalar, lookup, _ = execute(
        b["table"],
        F.one_hot(ops, len(OPERATIONS)).float(),
        F.one_hot(cols, C).float(),
        b["pivots"][:, 0],
        b["pivots"][:, 1],
    )
    return scalar, lookup
