"""The update after each backward pass: gradient clipping, gradient noise and the optimiser's step.

On a CPU, torch's `foreach` operations loop over the parameters in C++, one call per parameter, so an
Adam step of a model with 18 parameter tensors is about 150 small calls, and torch's norm clipping
another 50. On a CPU the parameters here are views into one flat buffer. After each backward pass the
update gathers their gradients into a second buffer (one `cat`), and the optimiser and the clipping
then run one call per operation over all of them. The arithmetic per element is the same in the same
order, so the numbers are the same to the last bit (tests/core/test_update.py). The clipping norm is
still taken per parameter and then over those norms, as in torch's clip_grad_norm_, and the gradient
noise is still drawn per parameter.

Torch's optimisers skip a parameter that got no gradient in a step (its state does not move). The flat
buffer cannot skip a part of itself, so from the first such step on the update runs one tensor per
parameter, starting from the state it has reached: the same numbers either way. `state_dict` is
always per parameter, in torch's own form, so a checkpoint is the same whichever form wrote it.
On a GPU the parameters stay as they are: foreach operations there are already fused kernels, and
cuDNN keeps its own flat copy of an LSTM's weights.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import TrainConfig


def make_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    # foreach: one call per update rule's operation over all parameters, where torch's CPU default
    # loops over them in Python (about ten small calls per parameter); the same operations,
    # so the same numbers to the last bit (tests/core/test_train.py). torch's fused kernels are faster
    # still but round differently, so a stored run would no longer be retrained to the same numbers.
    if cfg.optimizer == "rmsprop":
        # Graves et al. 2014 (NTM), section 4: RMSProp with momentum 0.9.
        return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum, alpha=0.95, eps=1e-6, foreach=True)
    return torch.optim.Adam(params, lr=cfg.lr, foreach=True)


class Update:
    """`zero_grad()` before the backward pass; `step(t)` after it clips, adds the noise of step t and
    updates. `flat`: None flattens the parameters when they are all on the CPU."""

    def __init__(self, cfg: TrainConfig, params, flat: bool | None = None):
        self.cfg = cfg
        self.params = [p for p in params if p.requires_grad]
        if flat is None:
            flat = all(p.device.type == "cpu" for p in self.params)
        self.flat = Flat(self.params) if flat and Flat.possible(self.params) else None
        self.optimizer = make_optimizer(cfg, [self.flat.param] if self.flat else self.params)

    @property
    def param_groups(self) -> list[dict]:
        return self.optimizer.param_groups

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self, t: int) -> None:
        cfg = self.cfg
        if self.flat is not None and not self.flat.gather():
            self._unflatten()
        if self.flat is None:
            grads = [p.grad for p in self.params if p.grad is not None]
            if cfg.clip > 0 and cfg.clip_mode == "value":
                nn.utils.clip_grad_value_(self.params, cfg.clip)
            elif cfg.clip > 0:
                nn.utils.clip_grad_norm_(self.params, cfg.clip)
        else:
            grads, whole = self.flat.grads, self.flat.param.grad
            if cfg.clip > 0 and cfg.clip_mode == "value":
                whole.clamp_(-cfg.clip, cfg.clip)
            elif cfg.clip > 0:  # as clip_grad_norm_: the norm of the parameters' norms, then one scale
                total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
                whole.mul_(torch.clamp(cfg.clip / (total + 1e-6), max=1.0))
        if cfg.grad_noise:
            # Neelakantan et al. 2015 (gradient noise): sigma^2 = eta / (1 + t)^0.55, after clipping.
            std = (cfg.grad_noise / (1 + t) ** 0.55) ** 0.5
            for g in grads:
                g.add_(torch.randn_like(g) * std)
        self.optimizer.step()

    def state_dict(self) -> dict:
        """The optimiser's state_dict, one entry per parameter (torch's form)."""
        sd = self.optimizer.state_dict()
        if self.flat is None:
            return sd
        flat_state = sd["state"].get(0, {})
        state = {i: {k: self.flat.part(v, i) for k, v in flat_state.items()} for i in range(len(self.params))}
        groups = [{**g, "params": list(range(len(self.params)))} for g in sd["param_groups"]]
        return {"state": state if flat_state else {}, "param_groups": groups}

    def load_state_dict(self, sd: dict) -> None:
        if self.flat is not None:
            merged = self.flat.merge(sd["state"])
            if merged is not None:
                groups = [{**g, "params": [0]} for g in sd["param_groups"]]
                self.optimizer.load_state_dict({"state": {0: merged} if merged else {}, "param_groups": groups})
                return
            self.flat = None  # a state some parameters lack: one tensor per parameter from here on
            self.optimizer = make_optimizer(self.cfg, self.params)
        self.optimizer.load_state_dict(sd)

    def _unflatten(self) -> None:
        state = self.state_dict()
        self.flat = None
        self.optimizer = make_optimizer(self.cfg, self.params)
        self.optimizer.load_state_dict(state)


class Flat:
    """Parameters as views into one buffer `param` (kept in each one's own memory layout, e.g. a
    convolution's channels-last weights), with views `grads` into the buffer `param.grad`."""

    @staticmethod
    def possible(params: list[torch.Tensor]) -> bool:
        """Whether the parameters can share one buffer: dense, of one dtype and device, not all scalars."""
        return any(p.dim() > 0 for p in params) and all(
            p.layout == torch.strided and p.dtype == params[0].dtype and p.device == params[0].device and _dense(p)
            for p in params
        )

    def __init__(self, params: list[torch.Tensor]):
        self.params = params
        # each parameter's dimensions from the largest stride down (its memory order), None if in order
        orders = [sorted(range(p.dim()), key=lambda d: -p.stride(d)) for p in params]
        self.orders = [None if order == sorted(order) else order for order in orders]
        self.offsets, total = [], 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        data = params[0].new_empty(total)
        with torch.no_grad():
            torch.cat([self._memory_order(p.detach(), i) for i, p in enumerate(params)], out=data)
        self.param = nn.Parameter(data)
        self.param.grad = torch.zeros_like(data)
        self.grads = [self.part(self.param.grad, i) for i in range(len(params))]
        for i, p in enumerate(params):
            p.data = self.part(data, i)

    def part(self, flat, i: int):
        """Parameter i's part of a tensor shaped like the buffer (a view, with the parameter's layout);
        anything else (a step count) as a copy of its own."""
        p = self.params[i]
        if not isinstance(flat, torch.Tensor) or flat.shape != self.param.shape:
            return flat.clone() if isinstance(flat, torch.Tensor) else flat
        return flat.as_strided(p.shape, p.stride(), flat.storage_offset() + self.offsets[i])

    def gather(self) -> bool:
        """Copy the parameters' gradients into the buffer's; False if one has none."""
        if any(p.grad is None for p in self.params):
            return False
        torch.cat([self._memory_order(p.grad, i) for i, p in enumerate(self.params)], out=self.param.grad)
        for p, g in zip(self.params, self.grads):
            p.grad = g  # what the update does to the buffer, each parameter's .grad shows
        return True

    def merge(self, state: dict) -> dict | None:
        """Per-parameter optimiser states as one state of the buffer, or None where they differ in
        kind (a parameter without state, or step counts that differ)."""
        if not state:
            return {}
        parts = [state.get(i) for i in range(len(self.params))]
        if any(s is None or s.keys() != parts[0].keys() for s in parts):
            return None
        merged = {}
        for k, v in parts[0].items():
            if all(isinstance(s[k], torch.Tensor) and s[k].shape == p.shape for s, p in zip(parts, self.params)):
                merged[k] = torch.cat([self._memory_order(s[k], i) for i, s in enumerate(parts)])
            elif all(_equal(s[k], v) for s in parts):  # a step count
                merged[k] = v.clone() if isinstance(v, torch.Tensor) else v
            else:
                return None
        return merged

    def _memory_order(self, t: torch.Tensor, i: int) -> torch.Tensor:
        """t, shaped like parameter i, as a vector in the order of that parameter's memory."""
        order = self.orders[i]
        return (t if order is None else t.permute(order)).reshape(-1)


def _dense(p: torch.Tensor) -> bool:
    """Whether p fills its memory without gaps in a layout torch keeps (contiguous or channels last)."""
    return (
        p.is_contiguous()
        or (p.dim() == 4 and p.is_contiguous(memory_format=torch.channels_last))
        or (p.dim() == 5 and p.is_contiguous(memory_format=torch.channels_last_3d))
    )


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and bool(torch.equal(a, b))
    return a == b
