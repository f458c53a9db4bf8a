"""torch.compile of the paper Neural Programmer's training forward computes what the eager forward
computes, to float tolerance, and evaluation stays eager."""

import torch

from augrnn.core.devices import fixed_generator
from augrnn.core.train import fit
from augrnn.programmer import paper_model as PM

TASK = PM.PaperTables()
TINY = PM.PaperTablesConfig(
    max_columns=1, train_questions=200, dev_questions=50, batch_size=8, model={"hidden": 8, "steps_t": 2}
)


def loss_and_grads(task, cfg, compiled: bool):
    torch.manual_seed(0)
    model = task.build_model(cfg).train()
    if compiled:
        task.compile_model(model)
    b = task.batch(cfg, 3, fixed_generator(1, "cpu"), "cpu")
    loss, _ = task.loss(model, b, cfg)
    loss.backward()
    return model, loss.detach(), {k: p.grad for k, p in model.named_parameters() if p.grad is not None}


def test_compiled_forward_gives_the_eager_loss_and_gradients():
    _, eager_loss, eager_grads = loss_and_grads(TASK, TINY, compiled=False)
    before = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    model, loss, grads = loss_and_grads(TASK, TINY, compiled=True)
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > before  # a graph was compiled
    torch.testing.assert_close(loss, eager_loss, rtol=1e-5, atol=1e-5)
    assert grads.keys() == eager_grads.keys() and grads
    for k in grads:
        torch.testing.assert_close(grads[k], eager_grads[k], rtol=1e-5, atol=1e-5, msg=k)


def test_fit_with_compile_trains_and_evaluates_eagerly():
    cfg = TINY.replace(steps=4, log_every=2, compile=True)
    run = fit(TASK, cfg, None, progress=False)
    assert "_compiled_forward" in vars(run.model) and not run.model.training
    assert run.provenance["config"]["compile"] is True and len(run.metrics) == 2
    # Evaluation (eval mode, no gradients) runs the eager forward: another batch size compiles nothing.
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    with torch.no_grad():
        out = run.model(PM.held_out(cfg, next(run.model.parameters()).device))
    assert out["scalar"].shape == (cfg.dev_questions,)
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == graphs
