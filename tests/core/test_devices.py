"""Every chapter's training step keeps its tensors on the model's device, checked without a GPU.

On the 'meta' device (tensors with shapes but no data) an operation that mixes in a tensor made on the
CPU fails, as it would on a GPU, and a spy sees every tensor the step makes. Each distinct experiment
and model of every chapter's smoke plan is built on 'meta', given a batch made for 'meta', and runs its
loss and backward pass under the spy. Steps that read data on the host cannot run there; they are
listed with the reason, and the list is checked too, so it stays true.
"""

import fnmatch
import re

import pytest
import torch

from augrnn.attention.speech import SpokenDigits
from augrnn.book.chapters import CHAPTERS
from augrnn.core.devices import step_generator
from fakes import make_fake

META = torch.device("meta")

# (chapter, run-name pattern) -> why its step cannot run on 'meta'
NOT_ON_META = {
    ("act", "logic-*"): "the logic LSTM packs its sequences by their lengths, read on the host",
}
# (chapter, run-name pattern) -> the config change that lets its step run on 'meta': ACT's ponder loop
# asks the host which samples have halted after every inner step but the last (the cap), so it runs
# here with one inner step, which still covers the halting arithmetic and the weighted mean.
ON_META_WITH = {("act", "*tau0*"): {"model": {"max_steps": 1}}}
# (chapter, run-name pattern) -> why its step makes integer tensors on the host: only those are allowed
HOST_INDICES = {
    ("attention", pattern): "the encoder and decoder sort their rows by lengths given as host lists (packing)"
    for pattern in ("translation-*", "scores-*")
}


def _match(table, chapter, name):
    return next((v for (c, pattern), v in table.items() if c == chapter and fnmatch.fnmatch(name, pattern)), None)


# Settings of the optimisation alone, which `fit` applies outside the step's loss and backward pass
TRAINING = dict(seed=0, steps=1, lr=1e-3, optimizer="adam", momentum=0.9, clip=1.0, warmdown=0.0, grad_noise=0.0)


def _variants():
    """One planned run per distinct (chapter, experiment, config but its training settings) of the
    smoke plans."""
    seen, out = set(), []
    for chapter, ch in CHAPTERS.items():
        for p in ch.plan("smoke"):
            key = (chapter, type(p.experiment).__name__, p.config.replace(**TRAINING).fingerprint())
            if key not in seen:
                seen.add(key)
                out.append(pytest.param(chapter, p, id=f"{chapter}/{p.name}"))
    return out


class _Spy(torch.overrides.TorchFunctionMode):
    """Records every tensor made off 'meta' by a torch function."""

    def __init__(self):
        super().__init__()
        self.off_meta = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for o in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(o, torch.Tensor) and o.device != META:
                self.off_meta.append((getattr(func, "__name__", str(func)), o.dtype))
        return out


@pytest.mark.parametrize("chapter, planned", _variants())
def test_training_step_keeps_every_tensor_on_the_models_device(chapter, planned, tmp_path):
    exp, cfg = planned.experiment, planned.config
    if isinstance(exp, SpokenDigits):  # small generated recordings, not the real data set
        exp = SpokenDigits(make_fake(tmp_path / "fsdd", digits=(0, 1, 2), takes=6))
    reason = _match(NOT_ON_META, chapter, planned.name)
    cfg = cfg.replace(**(_match(ON_META_WITH, chapter, planned.name) or {}))
    model = exp.build_model(cfg).to(META)
    # The data are drawn as in `fit`; a CPU generator stands in for the device's ('meta' has none).
    batch = exp.batch(cfg, 0, step_generator(cfg.seed, 0, "cpu"), META)
    tensors = [v for v in batch.values() if isinstance(v, torch.Tensor)]
    assert tensors and all(v.device == META for v in tensors), "the batch is not all on the asked device"
    spy = _Spy()
    try:
        with spy:
            loss, _ = exp.loss(model, batch, cfg)
            loss.backward()
    except (NotImplementedError, RuntimeError) as e:
        if reason is None:
            raise
        # the step's read on the host, not a device mix ("... is not on the expected device meta")
        assert re.search(r"Cannot copy out of meta tensor|cannot be called on meta tensors", str(e)), e
        return
    assert reason is None, f"runs on 'meta' now: take it out of NOT_ON_META ({reason})"
    if host := _match(HOST_INDICES, chapter, planned.name):
        assert spy.off_meta, f"makes nothing on the host now: take it out of HOST_INDICES ({host})"
        spy.off_meta = [(f, dtype) for f, dtype in spy.off_meta if dtype.is_floating_point]
    assert spy.off_meta == [], f"made off the model's device: {spy.off_meta}"
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(g.device == META for g in grads)
