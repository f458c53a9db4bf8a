import math

import torch

from augrnn.attention.mechanism import attend, dot_scores
from augrnn.core.train import fit
from augrnn.soft_lookup.lookup import Lookup, LookupConfig


def test_dot_scores_by_hand():
    q = torch.tensor([[[1.0, 2.0]]])
    k = torch.tensor([[[3.0, 4.0], [0.0, -1.0]]])
    assert torch.allclose(dot_scores(q, k, scale=False), torch.tensor([[[11.0, -2.0]]]))
    assert torch.allclose(dot_scores(q, k), torch.tensor([[[11.0, -2.0]]]) / math.sqrt(2))


def test_attend_by_hand():
    scores = torch.tensor([[[0.0, math.log(3.0)]]])
    values = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    ctx, w = attend(scores, values)
    assert torch.allclose(w, torch.tensor([[[0.25, 0.75]]]))
    assert torch.allclose(ctx, torch.tensor([[[0.25, 0.75]]]))


def test_masked_slots_get_exactly_zero_and_rows_sum_to_one():
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(4, 3, 6, generator=g) * 10
    values = torch.randn(4, 6, 5, generator=g)
    mask = torch.rand(4, 6, generator=g) > 0.4
    mask[:, 0] = True
    _, w = attend(scores, values, mask)
    assert torch.all(w[~mask.unsqueeze(1).expand_as(w)] == 0)
    assert torch.allclose(w.sum(-1), torch.ones(4, 3))


def test_fully_masked_row_is_zero_not_nan():
    ctx, w = attend(torch.randn(1, 1, 3), torch.randn(1, 3, 2), torch.zeros(1, 3, dtype=torch.bool))
    assert torch.all(w == 0) and torch.all(ctx == 0)


def test_gradient_reaches_queries_and_keys_through_the_weights():
    q = torch.randn(2, 1, 4, requires_grad=True)
    k = torch.randn(2, 5, 4, requires_grad=True)
    v = torch.randn(2, 5, 3)
    ctx, _ = attend(dot_scores(q, k), v)
    ctx.sum().backward()
    assert q.grad.abs().sum() > 0 and k.grad.abs().sum() > 0


def test_soft_lookup_learns_and_uniform_does_not():
    cfg = LookupConfig(steps=300, batch_size=64, lr=3e-3, log_every=300, eval_batch=256)
    dot = fit(Lookup(), cfg, None, progress=False).metrics.iloc[-1]
    uni = fit(Lookup(), cfg.replace(model={"attention": "uniform"}), None, progress=False).metrics.iloc[-1]
    assert dot["test_slot_accuracy"] > 0.9
    assert uni["test_slot_accuracy"] < 0.3


def test_additive_scores_by_hand():
    from augrnn.attention.mechanism import additive_scores

    q = torch.tensor([[[0.5, -1.0]]])  # already W s
    k = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])  # already U h
    v = torch.tensor([2.0, 1.0])
    expected = torch.tensor([[[2 * math.tanh(1.5) + math.tanh(-1.0), 2 * math.tanh(0.5) + math.tanh(1.0)]]])
    assert torch.allclose(additive_scores(q, k, v), expected)


def test_additive_scores_and_their_gradients_are_those_of_tanh():
    from augrnn.attention.mechanism import additive_scores

    torch.manual_seed(0)
    args = [torch.randn(4, 3, 8, requires_grad=True), torch.randn(4, 5, 8, requires_grad=True), torch.randn(8)]
    args[2].requires_grad_()
    ours = additive_scores(*args)
    plain = torch.tanh(args[0].unsqueeze(2) + args[1].unsqueeze(1)) @ args[2]
    assert torch.allclose(ours, plain, atol=1e-5)
    for a, b in zip(torch.autograd.grad(ours.sum(), args), torch.autograd.grad(plain.sum(), args)):
        assert torch.allclose(a, b, atol=1e-5)


def test_general_scores_by_hand():
    from augrnn.attention.mechanism import general_scores

    q = torch.tensor([[[1.0, 2.0]]])
    k = torch.tensor([[[1.0, 0.0, 1.0]]])
    w = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 3.0]])  # q W = [1, 2, 6]
    assert torch.allclose(general_scores(q, k, w), torch.tensor([[[7.0]]]))


def test_hard_attend_draws_slots_in_proportion_to_the_weights():
    from augrnn.attention.mechanism import hard_attend

    weights = torch.tensor([[[0.1, 0.0, 0.6, 0.3]]]).expand(20000, 1, 4)
    values = torch.eye(4).expand(20000, 4, 4)
    noise = torch.rand(20000, 1, 4, generator=torch.Generator().manual_seed(0))
    ctx, onehot, logp = hard_attend(weights, values, noise)
    share = onehot.mean((0, 1))
    assert torch.allclose(share, torch.tensor([0.1, 0.0, 0.6, 0.3]), atol=0.015) and share[1] == 0
    assert torch.equal(ctx, onehot)  # the context is the one value read
    assert torch.allclose(logp.exp(), (weights * onehot).sum(-1))


def test_coverage_penalty_by_hand():
    from augrnn.attention.mechanism import coverage_penalty

    # two steps over three slots: slot sums 1.0, 0.5, 0.5 -> 0 + 0.25 + 0.25
    w = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]])
    assert torch.allclose(coverage_penalty(w), torch.tensor(0.5))
    # a padding step counts for nothing; a padding slot is left out
    assert torch.allclose(coverage_penalty(w, steps=torch.tensor([[True, False]])), torch.tensor(2.0))
    assert torch.allclose(coverage_penalty(w, slots=torch.tensor([[True, True, False]])), torch.tensor(0.25))
