"""The Neural Programmer's core idea (Neelakantan, Le & Sutskever 2015), as the Distill article walks
through it: a controller RNN emits, at each of T steps, a distribution over operations; every
operation runs, and the step's output is the probability-weighted average of their results.

Here the operations act on the outputs of earlier steps ("the output 2 steps ago plus the output 1
step ago") and on the numbers of an arithmetic expression; the only supervision is the answer.

The Neural Programmer chapter trains it and reports how few discrete programs it finds: the trained
selector mostly repeats one operation at every step (`add` for sums, `mul` for products). What we
found while building it: even with one free logit table per expression (no RNN at all), Adam finds a
correct argmax program for only 4-6 of the 11 expressions (3 seeds); the soft relaxation has exact
solutions that are not programs ("a + b" is fitted by loading 0.5 a + 0.5 b twice and adding), and
local minima that never pick `sub`; an entropy penalty and Gumbel-softmax (soft or straight-through)
did not change that. What does learn every program (`search="sampled"`): the controller *samples* a
discrete program, REINFORCE rewards an exact answer, and a memory keeps, per expression, the first
sampled program that answers every question of the batch with that expression, which the controller
is then trained to emit (maximum likelihood), as in memory-augmented policy optimisation (Liang et al.
2018). The paper's model on tables is `augrnn.programmer.model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import Config, TrainConfig, bounded, choice, nested
from ..core.devices import fixed_generator, per_device

# --- mechanism ------------------------------------------------------------------------------------


def soft_select(p: torch.Tensor, results: torch.Tensor) -> torch.Tensor:
    """Soft operation selection: sum_op p[op] * results[op].

    p: B x O (a distribution over O operations), results: B x O x ... (each operation's output).
    With a one-hot p this is exactly the chosen operation's result.
    """
    return (p.reshape(*p.shape, *([1] * (results.dim() - 2))) * results).sum(1)


# --- the arithmetic language --------------------------------------------------------------------

VARIABLES = ("a", "b", "c")
OPERATIONS = ("load a", "load b", "load c", "add", "sub", "mul", "copy")
STEPS = 5

# Expressions with one correct program each (up to commutativity), written in the language above:
# `add`, `sub` and `mul` combine the outputs of 2 steps ago (left) and 1 step ago (right); `copy`
# repeats the output of 1 step ago.
TEMPLATES = {
    "a + b": ["load a", "load b", "add", "copy", "copy"],
    "a - b": ["load a", "load b", "sub", "copy", "copy"],
    "b - a": ["load b", "load a", "sub", "copy", "copy"],
    "a * b": ["load a", "load b", "mul", "copy", "copy"],
    "a + b + c": ["load a", "load b", "add", "load c", "add"],
    "a + b - c": ["load a", "load b", "add", "load c", "sub"],
    "( a + b ) * c": ["load a", "load b", "add", "load c", "mul"],
    "( a - b ) * c": ["load a", "load b", "sub", "load c", "mul"],
    "a * b + c": ["load a", "load b", "mul", "load c", "add"],
    "a * b - c": ["load a", "load b", "mul", "load c", "sub"],
    "a * b * c": ["load a", "load b", "mul", "load c", "mul"],
}
# Not every expression has a program here: "c - a * b" would need the output of 3 steps ago.

TOKENS = ("<pad>", "a", "b", "c", "+", "-", "*", "(", ")")


def operation_results(numbers: torch.Tensor, prev2: torch.Tensor, prev1: torch.Tensor) -> torch.Tensor:
    """Every operation's output at one step: numbers B x 3, prev2 and prev1 B -> B x O."""
    return torch.stack(
        [numbers[:, 0], numbers[:, 1], numbers[:, 2], prev2 + prev1, prev2 - prev1, prev2 * prev1, prev1], dim=1
    )


def run_program(p_steps: torch.Tensor, numbers: torch.Tensor) -> torch.Tensor:
    """Execute T steps of (soft or one-hot) operation choices p_steps B x T x O; returns B x T outputs."""
    zero = torch.zeros_like(numbers[:, 0])
    prev2, prev1, outs = zero, zero, []
    for t in range(p_steps.shape[1]):
        out = soft_select(p_steps[:, t], operation_results(numbers, prev2, prev1))
        prev2, prev1 = prev1, out
        outs.append(out)
    return torch.stack(outs, dim=1)


def evaluate_expression(text: str, numbers) -> float:
    """The reference answer: the expression evaluated by Python on a, b, c."""
    return eval(text, {"__builtins__": {}}, dict(zip(VARIABLES, numbers)))  # templates are ours


# --- task -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArithmeticModelConfig(Config):
    hidden: int = bounded(64, 1, 4096)
    embed: int = bounded(32, 1, 1024)


@dataclass(frozen=True)
class ArithmeticConfig(TrainConfig):
    model: ArithmeticModelConfig = nested(ArithmeticModelConfig)
    number_range: float = bounded(1.0, 0.0, 100.0, lo_open=True)
    loss: str = choice("huber", ("huber", "mse"))
    eval_size: int = bounded(1024, 1, 1 << 20)
    # "soft": the article's mixture of every operation, trained on the answer's Huber loss; "sampled":
    # discrete programs sampled from the controller, trained by REINFORCE on exact answers (see above).
    search: str = choice("soft", ("soft", "sampled"))
    samples: int = bounded(8, 2, 256)  # programs sampled per question ("sampled"); their mean reward is the baseline
    entropy: float = bounded(0.01, 0.0, 10.0)  # weight of the controller's entropy bonus ("sampled")
    memory: bool = choice(True, (True, False))  # keep and imitate verified programs ("sampled")


EXPRESSIONS = list(TEMPLATES)
MAX_TOKENS = max(len(e.split()) for e in EXPRESSIONS)


def encode(expressions) -> torch.Tensor:
    ids = [[TOKENS.index(tok) for tok in e.split()] for e in expressions]
    return torch.tensor([row + [0] * (MAX_TOKENS - len(row)) for row in ids])


ENCODED = encode(EXPRESSIONS)


@per_device
def _constants() -> dict:
    """The expressions' tokens and reference programs, made once per device."""
    programs = torch.tensor([[OPERATIONS.index(op) for op in TEMPLATES[e]] for e in EXPRESSIONS])
    return {"tokens": ENCODED, "programs": programs}


def arithmetic_batch(cfg: ArithmeticConfig, batch: int, g: torch.Generator, device):
    which = torch.randint(0, len(EXPRESSIONS), (batch,), generator=g, device=device)
    numbers = (torch.rand(batch, 3, generator=g, device=device) * 2 - 1) * cfg.number_range
    # The answer through the template's reference program, one-hot: equal to Python's eval (tested).
    on = _constants(device)
    target = run_program(F.one_hot(on["programs"][which], len(OPERATIONS)).float(), numbers)[:, -1]
    return {"tokens": on["tokens"][which], "which": which, "numbers": numbers, "y": target}


class ArithmeticProgrammer(nn.Module):
    """Question GRU reads the expression; a history GRU cell and a selector emit one operation
    distribution per step from the question and the previous step's choice: the soft distribution
    (`discrete=False`, the article's model) or the operation chosen (a program sampled in training, the
    most likely one otherwise). A discrete model also keeps `memory`, E x T: per expression, a program
    that answered it (-1 where none is known yet)."""

    def __init__(self, cfg: ArithmeticModelConfig, discrete: bool = False):
        super().__init__()
        self.embed = nn.Embedding(len(TOKENS), cfg.embed, padding_idx=0)
        self.question = nn.GRU(cfg.embed, cfg.hidden, batch_first=True)
        self.op_embed = nn.Linear(len(OPERATIONS), cfg.embed, bias=False)
        self.history = nn.GRUCell(cfg.embed + STEPS, cfg.hidden)
        self.selector = nn.Linear(2 * cfg.hidden, len(OPERATIONS))
        self.discrete = discrete
        if discrete:
            self.register_buffer("memory", torch.full((len(EXPRESSIONS), STEPS), -1, dtype=torch.long))

    def forward(self, tokens, numbers):
        """-> (outputs B x T, distributions B x T x O). A discrete model runs its most likely program."""
        if not self.discrete:
            p_steps = self.choose(tokens, "soft")[3]
            return run_program(p_steps, numbers), p_steps
        choices, _, _, p_steps = self.choose(tokens, "argmax")
        return run_program(F.one_hot(choices, len(OPERATIONS)).float(), numbers), p_steps

    def choose(self, tokens, how: str, samples: int = 1, forced=None):
        """Run the controller: how is "soft", "argmax", "sample" (`samples` programs per question,
        B*samples rows, question-major) or "forced" (the programs `forced` B x T). Returns the choices
        (B' x T), their summed log-probability and the summed entropy of the distributions (B'), and the
        distributions B' x T x O."""
        # The question's encoding is the GRU state at its last real token (padding comes after it).
        states, _ = self.question(self.embed(tokens))
        last = (tokens != 0).sum(1) - 1
        q = states[torch.arange(tokens.shape[0], device=tokens.device), last].repeat_interleave(samples, 0)
        b = q.shape[0]
        state, choice_in, ps, picks = q, torch.zeros(b, len(OPERATIONS), device=tokens.device), [], []
        steps = torch.eye(STEPS, device=tokens.device)
        for t in range(STEPS):
            # The history cell sees the previous choice and which step this is.
            state = self.history(torch.cat([self.op_embed(choice_in), steps[t].expand(b, -1)], -1), state)
            p = torch.softmax(self.selector(torch.cat([q, state], -1)), -1)
            ps.append(p)
            if how == "soft":
                choice_in = p
                continue
            if how == "forced":
                picks.append(forced[:, t])
            elif how == "sample":
                picks.append(torch.multinomial(p.detach(), 1).squeeze(1))
            else:
                picks.append(p.argmax(-1))
            choice_in = F.one_hot(picks[-1], len(OPERATIONS)).to(p.dtype)
        p_steps = torch.stack(ps, dim=1)  # B' x T x O
        if how == "soft":
            return None, None, None, p_steps
        choices = torch.stack(picks, 1)
        logp = p_steps.clamp_min(1e-12).log()
        entropy = -(p_steps * logp).sum((1, 2))
        return choices, logp.gather(2, choices.unsqueeze(2)).squeeze(2).sum(1), entropy, p_steps


def discrete_program_correct(p_steps, numbers, target, tol=1e-4) -> torch.Tensor:
    """Whether running only the most likely operation at each step gives the right answer, B."""
    hard = F.one_hot(p_steps.argmax(-1), p_steps.shape[-1]).float()
    return (run_program(hard, numbers)[:, -1] - target).abs() < tol


EXACT = 1e-4  # an answer within this of the expression's value is exact (numbers are in [-1, 1])


def sampled_loss(model, b, cfg):
    """REINFORCE on `cfg.samples` programs sampled per question (reward 1 for an exact answer, the
    question's mean reward as baseline) minus an entropy bonus; with `cfg.memory`, plus the negative
    log-likelihood of the remembered program of each question's expression. Updates model.memory."""
    k, ops = cfg.samples, len(OPERATIONS)
    choices, logp, entropy, _ = model.choose(b["tokens"], "sample", k)
    which = b["which"].repeat_interleave(k)
    with torch.no_grad():
        answers = run_program(F.one_hot(choices, ops).float(), b["numbers"].repeat_interleave(k, 0))[:, -1]
        reward = ((answers - b["y"].repeat_interleave(k)).abs() < EXACT).float()
        advantage = (reward.view(-1, k) - reward.view(-1, k).mean(1, keepdim=True)).view(-1)
    loss = -(advantage * logp).mean() - cfg.entropy * entropy.mean()
    metrics = {"reward": reward.mean()}
    if cfg.memory:
        remember(model, b, choices, which)
        known = model.memory[b["which"]]  # B x T
        has = (known[:, 0] >= 0).float()
        _, imitated, _, _ = model.choose(b["tokens"], "forced", forced=known.clamp_min(0))
        loss = loss - (has * imitated).sum() / has.sum().clamp_min(1)
        metrics["remembered"] = (model.memory[:, 0] >= 0).float().sum()
    return loss, {"loss": loss, **metrics}


@torch.no_grad()
def remember(model, b, choices, which):
    """Keep, for each expression without a remembered program, the first sampled program that answers
    every question of the batch with that expression exactly (at least 3 of them: one exact answer
    can be a coincidence, e.g. c for a + b + c when a + b is near 0). All on the device, no loop."""
    ops, n, questions = len(OPERATIONS), choices.shape[0], b["which"].shape[0]
    same = which.unsqueeze(1) == b["which"].unsqueeze(0)  # n x questions: the same expression
    programs = (
        F.one_hot(choices, ops).float().unsqueeze(1).expand(-1, questions, -1, -1)
    )  # every program on every question
    answers = run_program(programs.reshape(-1, STEPS, ops), b["numbers"].repeat(n, 1))[:, -1].view(n, questions)
    right = ((answers - b["y"]).abs() < EXACT) | ~same
    verified = right.all(1) & (same.sum(1) >= 3) & (model.memory[which, 0] < 0)
    # The first verified sample of each expression (n: none). No boolean indexing: its output's size
    # would need a copy to the host on a GPU.
    first = torch.full((len(EXPRESSIONS),), n, device=choices.device)
    first.scatter_reduce_(0, which, torch.where(verified, torch.arange(n, device=choices.device), n), "amin")
    found = (first < n).unsqueeze(1)
    model.memory.copy_(torch.where(found, choices[first.clamp(max=n - 1)], model.memory))


class Arithmetic:
    def build_model(self, cfg):
        return ArithmeticProgrammer(cfg.model, discrete=cfg.search == "sampled")

    def batch(self, cfg, step, g, device):
        return arithmetic_batch(cfg, cfg.batch_size, g, device)

    def loss(self, model, b, cfg):
        if cfg.search == "sampled":
            return sampled_loss(model, b, cfg)
        outs, p = model(b["tokens"], b["numbers"])
        fn = F.huber_loss if cfg.loss == "huber" else F.mse_loss
        loss = fn(outs[:, -1], b["y"])
        return loss, {"loss": loss}

    def evaluate(self, model, cfg, device):
        b = held_out(cfg, device)
        outs, p = model(b["tokens"], b["numbers"])
        return {
            "test_abs_error": float((outs[:, -1] - b["y"]).abs().mean()),
            "test_program_correct": float(discrete_program_correct(p, b["numbers"], b["y"]).float().mean()),
        }


def held_out(cfg, device, size=None):
    return arithmetic_batch(cfg, size or cfg.eval_size, fixed_generator(4242, device), device)
