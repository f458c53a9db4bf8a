"""Devices and random generators: which device a run uses, the seeded data of a step, and constants
moved to a device once."""

from __future__ import annotations

import functools

import torch


def pick_device(name: str = "auto") -> torch.device:
    """'auto' takes CUDA, then Apple MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was asked for but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    return torch.device(name)


def step_generator(seed: int, step: int, device) -> torch.Generator:
    """A generator for the data of one training step, independent of what ran before it."""
    g = torch.Generator(device=device)
    g.manual_seed((seed * 1_000_003 + step) % (2**63 - 1))
    return g


def fixed_generator(seed: int, device) -> torch.Generator:
    """A generator for a fixed held-out set (its own seed, never a training step's)."""
    return torch.Generator(device=device).manual_seed(seed)


def _to(value, device):
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_to(v, device) for v in value)
    return value


def per_device(fn):
    """Cache `fn(*args)` (tensors made on the host) moved to a device, once per (args, device).

    The decorated function takes the device as its last argument: `fn(*args, device)`. Constants a
    training step needs are made this way, so the step itself copies nothing from the host."""
    host = functools.lru_cache(maxsize=8)(fn)

    @functools.lru_cache(maxsize=16)
    def moved(args, device: str):
        return _to(host(*args), torch.device(device))

    @functools.wraps(fn)
    def wrapper(*args):
        *rest, device = args
        if torch.compiler.is_compiling():  # inside a compiled graph the tensor is one of its constants
            return _to(fn(*rest), torch.device(device))
        return moved(tuple(rest), str(torch.device(device)))

    wrapper.cache_clear = lambda: (host.cache_clear(), moved.cache_clear())
    return wrapper
