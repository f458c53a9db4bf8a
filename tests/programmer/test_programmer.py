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
