import pytest
import torch
from torch.nn import functional as F

from augrnn.core.train import fit, numbers
from augrnn.programmer import arithmetic as P


def test_soft_select_with_one_hot_runs_exactly_that_operation():
    results = torch.randn(4, 7, 3)
    for op in range(7):
        p = F.one_hot(torch.full((4,), op), 7).float()
        assert torch.equal(P.soft_select(p, results), results[:, op])
    p = torch.softmax(torch.randn(4, 7), -1)
    assert torch.allclose(P.soft_select(p, results), torch.einsum("bo,bod->bd", p, results))


@pytest.mark.parametrize("expression", P.EXPRESSIONS)
def test_each_reference_program_computes_its_expression(expression):
    numbers = torch.tensor([[0.3, -0.7, 0.9], [-0.2, 0.5, 0.1]], dtype=torch.float64)
    prog = torch.tensor([P.OPERATIONS.index(op) for op in P.TEMPLATES[expression]])
    hard = F.one_hot(prog, len(P.OPERATIONS)).double().expand(2, -1, -1)
    out = P.run_program(hard, numbers)[:, -1]
    for row, value in zip(numbers.tolist(), out.tolist()):
        assert value == pytest.approx(P.evaluate_expression(expression, row))


def test_batches_carry_the_right_answers():
    cfg = P.ArithmeticConfig()
    b = P.arithmetic_batch(cfg, 64, torch.Generator().manual_seed(0), "cpu")
    for w, nums, y in zip(b["which"], b["numbers"], b["y"]):
        assert float(y) == pytest.approx(P.evaluate_expression(P.EXPRESSIONS[int(w)], nums.tolist()), abs=1e-5)


def test_gradient_reaches_the_selector_and_training_is_deterministic():
    cfg = P.ArithmeticConfig(steps=5, batch_size=16, log_every=5, eval_size=32, grad_noise=0.01)
    model = P.Arithmetic().build_model(cfg)
    b = P.arithmetic_batch(cfg, 8, torch.Generator().manual_seed(1), "cpu")
    loss, _ = P.Arithmetic().loss(model, b, cfg)
    loss.backward()
    assert model.selector.weight.grad.abs().sum() > 0
    assert model.question.weight_ih_l0.grad.abs().sum() > 0
    a = fit(P.Arithmetic(), cfg, None, progress=False).metrics
    assert numbers(a).equals(numbers(fit(P.Arithmetic(), cfg, None, progress=False).metrics))


def _program(expression):
    return torch.tensor([P.OPERATIONS.index(op) for op in P.TEMPLATES[expression]])


def test_memory_keeps_a_program_only_when_it_answers_every_question_of_its_expression():
    cfg = P.ArithmeticConfig(search="sampled")
    model = P.Arithmetic().build_model(cfg)
    k = P.EXPRESSIONS.index("a + b + c")
    numbers = torch.tensor([[0.3, -0.3, 0.5], [0.1, 0.4, -0.2], [-0.6, 0.2, 0.7], [0.9, -0.5, 0.3]])
    b = {"which": torch.full((4,), k), "numbers": numbers, "y": numbers.sum(1)}
    just_c = torch.tensor([P.OPERATIONS.index(op) for op in ["load a", "load b", "sub", "load c", "copy"]])
    # "c" answers the first question (a + b = 0) exactly, and no other: a coincidence, not remembered
    P.remember(model, b, just_c.unsqueeze(0), torch.tensor([k]))
    assert (model.memory < 0).all()
    # the right program is remembered; a second right one later does not replace it
    right, other = (
        _program("a + b + c"),
        torch.tensor([P.OPERATIONS.index(op) for op in ["load b", "load a", "add", "load c", "add"]]),
    )
    P.remember(model, b, torch.stack([just_c, right, other]), torch.tensor([k, k, k]))
    assert torch.equal(model.memory[k], right) and (model.memory[torch.arange(11) != k] < 0).all()
    P.remember(model, b, other.unsqueeze(0), torch.tensor([k]))
    assert torch.equal(model.memory[k], right)
    # fewer than 3 questions of the expression in the batch: nothing is verified
    fresh = P.Arithmetic().build_model(cfg)
    P.remember(fresh, {key: v[:2] for key, v in b.items()}, right.unsqueeze(0), torch.tensor([k]))
    assert (fresh.memory < 0).all()


def test_sampled_search_is_deterministic_resumes_exactly_and_runs_its_most_likely_program(tmp_path):
    from augrnn.core.train import Interrupted

    cfg = P.ArithmeticConfig(steps=40, batch_size=64, log_every=10, eval_size=64, checkpoint_every=20, search="sampled")
    whole = fit(P.Arithmetic(), cfg, None, progress=False)
    assert {"reward", "remembered"} <= set(whole.metrics.columns)
    with pytest.raises(Interrupted):
        fit(P.Arithmetic(), cfg, tmp_path, progress=False, stop_at=30)
    resumed = fit(P.Arithmetic(), cfg, tmp_path, progress=False)
    assert numbers(whole.metrics).equals(numbers(resumed.metrics))
    assert torch.equal(whole.model.memory, resumed.model.memory)
    # a discrete model's answer is its argmax program's, run exactly
    b = P.held_out(cfg, whole.model.memory.device, 32)
    outs, p = whole.model(b["tokens"], b["numbers"])
    hard = F.one_hot(p.argmax(-1), len(P.OPERATIONS)).float()
    assert torch.equal(outs, P.run_program(hard, b["numbers"]))


def test_arithmetic_results_count_each_methods_solved_expressions_per_seed():
    from augrnn.core.train import Run
    from augrnn.programmer import analysis

    cfg = P.ArithmeticConfig(search="sampled")
    model = P.Arithmetic().build_model(cfg)
    run = Run(cfg, model, __import__("pandas").DataFrame({"test_abs_error": [0.5, 0.25]}), {}, None)
    runs = {("arithmetic-sampled", 0): run, ("arithmetic-sampled", 1): run, ("C=3, T=4", 0): run}
    by_method = analysis.arithmetic_runs(runs)
    assert list(by_method) == ["sampled programs + memory"] and set(by_method["sampled programs + memory"]) == {0, 1}
    rows = analysis.arithmetic_results(by_method, cfg)
    assert list(rows["seed"]) == [0, 1] and (rows["held-out |error|"] == 0.25).all()
    # an untrained controller's argmax program: the count is what the per-expression table says
    solved = analysis.solved_expressions({0: run}, cfg)["seed 0"].sum()
    assert (rows["expressions solved (of 11)"] == solved).all() and 0 <= solved < 11
