"""torch.compile of the NTM step computes what the eager step computes, to float tolerance."""

import torch

from augrnn.core.train import fit
from augrnn.ntm.tasks import NTMConfig, NTMTask, bits_per_sequence, sample_batch


def test_compiled_step_gives_the_eager_loss_and_gradients():
    cfg = NTMConfig(model={"locations": 8, "width": 4, "hidden": 8}, max_len=3, batch_size=4)
    task = NTMTask()
    torch.manual_seed(0)
    model = task.build_model(cfg)
    b = sample_batch(cfg, 4, torch.Generator().manual_seed(1), "cpu", size=3)
    results = []
    for compiled in (False, True):
        model.train_step = None
        if compiled:
            task.compile_model(model)
        model.zero_grad()
        loss = bits_per_sequence(model(b["x"]), b)
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    (eager_loss, eager_grads), (comp_loss, comp_grads) = results
    assert model.train_step is not None
    torch.testing.assert_close(comp_loss, eager_loss, rtol=1e-5, atol=1e-5)
    for e, c in zip(eager_grads, comp_grads):
        torch.testing.assert_close(c, e, rtol=1e-5, atol=1e-5)


def test_fit_with_compile_trains_and_returns_a_model_that_evaluates_eagerly():
    cfg = NTMConfig(
        model={"locations": 8, "width": 4, "hidden": 8},
        max_len=3,
        batch_size=4,
        steps=4,
        log_every=2,
        eval_size=4,
        compile=True,
    )
    run = fit(NTMTask(), cfg, None, progress=False)
    assert run.model.train_step is not None and not run.model.training
    assert run.provenance["config"]["compile"] is True
    assert len(run.metrics) == 2
