"""The Neural Programmer as the paper defines it (Neelakantan, Le & Sutskever 2015, section 2), on the
synthetic table questions of section 3.1 (`augrnn.programmer.questions`), with its loss (section 2.5)
and training recipe (section 3.2.1).

    question RNN   z_i = tanh(W^question [z_{i-1}; V(w_i)]),  q = z_Q            (sec. 2.1, no bias)
    selector       alpha^op_t  = softmax(U tanh(W^op  [q; h_t]))                  (sec. 2.2)
                   alpha^col_t = softmax(P tanh(W^col [q; h_t])),  P = V(column names)
    history RNN    h_t = tanh(W^history [c_t; h_{t-1}]),  c_t = [alpha^op_{t-1} U; alpha^col_{t-1} P]
    pivots         beta_op = softmax(Z U(op)),  pivot_op = sum_i beta_op(i) qn_i  (sec. 2.3)

with Z the question RNN's states at the words left of the question's numbers. h_0 = 0 and c_1 = 0,
so h_1 = 0 (the paper's h_1 = [0]^d). Every weight is drawn from U(-0.1, 0.1) (sec. 3.2.1). At test
time the three softmaxes become hardmaxes (sec. 2.5) and the answer is the lookup if the last step's
operation is print, the scalar otherwise; a scalar is right when it equals the answer to the first
decimal place (table 2's caption: we read it as |error| < 0.05).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..core.compiled import compile_training_forward
from ..core.config import Config, TrainConfig, bounded, nested
from ..core.devices import per_device
from . import questions
from .paper_ops import OP, OPS, run


@dataclass(frozen=True)
class PaperModelConfig(Config):
    hidden: int = bounded(256, 1, 4096)  # d
    steps_t: int = bounded(4, 1, 16)  # T
    # Ours, off by default (0): a straight-through gradient to the pivots (augrnn.programmer.paper_ops).
    pivot_scale: float = bounded(0.0, 0.0)


@dataclass(frozen=True)
class PaperTablesConfig(TrainConfig):
    max_columns: int = bounded(1, 1, len(questions.NAMES))
    train_questions: int = bounded(50_000, 1, 10_000_000)  # a fixed training set (sec. 3.2.1)
    dev_questions: int = bounded(1000, 1, 1_000_000)  # held out from the training distribution
    data_seed: int = bounded(0, 0)
    model: PaperModelConfig = nested(PaperModelConfig)
    huber_delta: float = bounded(10.0, 0.0, None, lo_open=True)  # grid {10, 25, 50}
    lookup_weight: float = bounded(50.0, 0.0)  # lambda, grid {25, 50, 75, 100}
    # Ours, off by default: a logic question's two numbers ordered so both filters matter (questions.build).
    interacting: bool = False


class PaperProgrammer(nn.Module):
    def __init__(self, cfg: PaperModelConfig):
        super().__init__()
        d = cfg.hidden
        self.steps = cfg.steps_t
        self.pivot_scale = cfg.pivot_scale
        self.words = nn.Embedding(len(questions.WORDS), d)  # V, shared by questions and column names
        self.question = nn.RNN(d, d, bias=False, batch_first=True)  # tanh
        self.ops = nn.Parameter(torch.empty(len(OPS), d))  # U
        self.w_op = nn.Linear(2 * d, d, bias=False)
        self.w_col = nn.Linear(2 * d, d, bias=False)
        self.w_history = nn.Linear(3 * d, d, bias=False)
        for p in self.parameters():
            nn.init.uniform_(p, -0.1, 0.1)
        ids = torch.tensor([questions.WORD[n] for n in questions.NAMES])
        self.register_buffer("name_ids", ids, persistent=False)

    def forward(self, b, hard: bool = False):
        """Soft choices (training) or hardmax ones (hard=True, test) and the answers they give."""
        tokens, table = b["tokens"], b["table"]
        B, C = tokens.shape[0], table.shape[2]
        z, _ = self.question(self.words(tokens))  # B x L x d
        q = z[torch.arange(B, device=tokens.device), (tokens != 0).sum(1) - 1]
        names = self.words(self.name_ids[:C]).expand(B, -1, -1)  # P: B x C x d
        # Pivots (sec. 2.3): one softmax per comparison over the question's numbers, computed once.
        left = z.gather(1, (b["number_pos"] - 1).clamp(min=0)[:, :, None].expand(-1, -1, z.shape[2]))  # B x 2 x d
        scores = left @ self.ops[OP["greater"] : OP["lesser"] + 1].T  # B x numbers x (greater, lesser)
        present = torch.arange(2, device=tokens.device)[None, :, None] < b["n_numbers"][:, None, None]
        beta = _choose(scores.masked_fill(~present, -1e9), 1, hard)  # finite: a question may have no number
        pivots = (beta * b["numbers"][:, :, None]).sum(1)  # B x 2
        h, c = q.new_zeros(B, q.shape[1]), q.new_zeros(B, 2 * q.shape[1])
        # W [q; h_t] = W_q q + W_h h_t: the question's half is the same at every step, computed once.
        d = q.shape[1]
        q_op, q_col = q @ self.w_op.weight[:, :d].T, q @ self.w_col.weight[:, :d].T
        p_ops, p_cols = [], []
        for _ in range(self.steps):
            h = torch.tanh(self.w_history(torch.cat([c, h], 1)))
            a_op = _choose(torch.tanh(torch.addmm(q_op, h, self.w_op.weight[:, d:].T)) @ self.ops.T, 1, hard)
            # a broadcast product and a sum: torch's CPU bmm is slow for a matrix times a vector
            col_scores = (names * torch.tanh(torch.addmm(q_col, h, self.w_col.weight[:, d:].T))[:, None, :]).sum(2)
            a_col = _choose(col_scores.masked_fill(~b["column_mask"], float("-inf")), 1, hard)
            c = torch.cat([a_op @ self.ops, (a_col[:, :, None] * names).sum(1)], 1)
            p_ops.append(a_op)
            p_cols.append(a_col)
        p_op, p_col = torch.stack(p_ops, 1), torch.stack(p_cols, 1)
        scalar, lookup, rows = run(table, b["row_mask"], p_op, p_col, pivots[:, 0], pivots[:, 1], self.pivot_scale)
        return {"scalar": scalar, "lookup": lookup, "rows": rows, "p_op": p_op, "p_col": p_col, "beta": beta}


def _choose(scores, dim, hard):
    if not hard:
        return torch.softmax(scores, dim)
    return F.one_hot(scores.argmax(dim), scores.shape[dim]).movedim(-1, dim).to(scores.dtype)


def correct(out, b) -> torch.Tensor:
    """B booleans: a lookup answer when the last operation is print (every cell right), else a scalar
    within 0.05 of the answer."""
    says_lookup = out["p_op"][:, -1].argmax(-1) == OP["print"]
    scalar_ok = (out["scalar"] - b["y"]).abs() < 0.05
    lookup_ok = ((out["lookup"] > 0.5) == (b["lookup"] > 0.5)).flatten(1).all(1)
    return torch.where(b["is_lookup"], says_lookup & lookup_ok, ~says_lookup & scalar_ok)


def loss_terms(out, b, delta: float, weight: float) -> torch.Tensor:
    """Per question (sec. 2.5): Huber loss of a scalar answer, or lambda x the mean log loss over the
    real cells of a lookup answer."""
    scalar = F.huber_loss(out["scalar"], b["y"], delta=delta, reduction="none")
    cells = b["row_mask"][:, :, None] & b["column_mask"][:, None, :]
    logloss = F.binary_cross_entropy(out["lookup"].clamp(1e-6, 1 - 1e-6), b["lookup"], reduction="none")
    lookup = (logloss * cells).flatten(1).sum(1) / cells.flatten(1).sum(1)
    return torch.where(b["is_lookup"], weight * lookup, scalar)


# --- data sets ------------------------------------------------------------------------------------

TRAIN_ROWS, TEST_ROWS = (30, 100), (120, 120)
TRAIN_VALUE, TEST_VALUE = 100.0, 200.0


@per_device
def training_set(max_columns: int, n: int, seed: int, interacting: bool = False):
    """The fixed training set: n questions of 1..max_columns columns, 30-100 rows, values in [-100, 100]."""
    g = torch.Generator().manual_seed(seed)
    pairs = questions.draw_templates(n, max_columns, g)
    return questions.build(pairs, TRAIN_ROWS, TRAIN_VALUE, max_columns, g, interacting)


def held_out(cfg: PaperTablesConfig, device):
    """Fresh questions from the training distribution (their own seed), for model selection."""
    return _held_out(cfg.max_columns, cfg.dev_questions, cfg.data_seed, cfg.interacting, device)


def paper_test(cfg: PaperTablesConfig, device, per_template: int = 1):
    """The paper's test set: every template of max_columns columns, once (per_template > 1 for a
    larger probe), on 120-row tables with values in [-200, 200]."""
    return _paper_test(cfg.max_columns, cfg.data_seed, per_template, cfg.interacting, device)


@per_device
def _held_out(max_columns: int, n: int, seed: int, interacting: bool):
    g = torch.Generator().manual_seed(seed + 1_000_003)
    pairs = questions.draw_templates(n, max_columns, g)
    return questions.build(pairs, TRAIN_ROWS, TRAIN_VALUE, max_columns, g, interacting)


@per_device
def _paper_test(max_columns: int, seed: int, per_template: int, interacting: bool):
    g = torch.Generator().manual_seed(seed + 2_000_003)
    pairs = [(max_columns, t) for t in questions.templates(max_columns) for _ in range(per_template)]
    return questions.build(pairs, TEST_ROWS, TEST_VALUE, max_columns, g, interacting)


class PaperTables:
    """Plugs the paper's table questions into augrnn.core.train.fit: minibatches drawn from the fixed
    training set; evaluation of the hardmax program on the dev and test sets. Model selection (the
    paper's) may use the dev set, never the test set."""

    selectable = ("dev_accuracy",)

    def build_model(self, cfg):
        return PaperProgrammer(cfg.model)

    def compile_model(self, model):
        """The training forward (question RNN, selector steps and operations) as one compiled graph."""
        compile_training_forward(model)

    def batch(self, cfg, step, g, device):
        data = training_set(cfg.max_columns, cfg.train_questions, cfg.data_seed, cfg.interacting, device)
        idx = torch.randint(0, cfg.train_questions, (cfg.batch_size,), generator=g, device=device)
        return {k: v[idx] for k, v in data.items() if torch.is_tensor(v)}

    def loss(self, model, b, cfg):
        out = model(b)
        loss = loss_terms(out, b, cfg.huber_delta, cfg.lookup_weight).mean()
        return loss, {"loss": loss, "accuracy": correct(out, b).float().mean()}

    @torch.no_grad()
    def evaluate(self, model, cfg, device):
        """Hardmax program accuracy on the dev set, on the paper's test set, and per question kind on a
        larger probe of the test distribution (every template 8 times, other tables and numbers)."""
        res = {}
        for name, b in (("dev", held_out(cfg, device)), ("test", paper_test(cfg, device))):
            res[f"{name}_accuracy"] = float(correct(model(b, hard=True), b).float().mean())
        b = probe(cfg, device)
        for kind, acc in accuracy_by_kind(model, b).items():
            res[f"probe_{kind}"] = acc
        res["probe_pivots"] = pivot_accuracy(model, b)
        return res


@torch.no_grad()
def accuracy_by_kind(model, b) -> dict[str, float]:
    """Hardmax program accuracy per question kind (questions.KINDS) present in the batch."""
    ok = correct(model(b, hard=True), b).float()
    return {k: float(ok[b["kind"] == i].mean()) for i, k in enumerate(questions.KINDS) if (b["kind"] == i).any()}


@torch.no_grad()
def pivot_accuracy(model, b) -> float:
    """Of the questions with two numbers, the share whose hardmax pivots are both the template's:
    greater takes the number its program compares with, and so does lesser."""
    two = b["n_numbers"] == 2
    chosen = model(b, hard=True)["beta"].argmax(1)  # B x (greater, lesser): the number each one takes
    return float((chosen == b["program_pivots"]).all(1)[two].float().mean())


def probe(cfg: PaperTablesConfig, device):
    """Every template of the test distribution 8 times (seeded apart from the paper's test set)."""
    return paper_test(cfg.replace(data_seed=cfg.data_seed + 1), device, per_template=8)
