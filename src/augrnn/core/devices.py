"""Devices and random generators: which device a run uses, the seeded data of a step, and constants
moved to a device once."""

from __future__ import annotations

import functools
import os
import shutil

import torch


def pick_device(name: str = "auto") -> torch.device:
    """'auto' takes a CUDA GPU when there is one, else the CPU. Apple's MPS only when asked for: these
    small recurrent models make many small operations, each slower to launch there than on the
    CPU, and we have not run the chapters on it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was asked for but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise RuntimeError("device='mps' was asked for but torch sees no Apple GPU; use 'auto' or 'cpu'")
    return torch.device(name)


def rng_states(device: torch.device) -> dict:
    """The random states a run draws from outside its data generators, for a checkpoint: the CPU's
    and, on a GPU, the device's (there gradient noise, a random initial memory and the sampled
    program search draw on the device's generator)."""
    states = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    elif device.type == "mps":
        states["mps"] = torch.mps.get_rng_state()
    return states


def set_rng_states(states, device: torch.device) -> None:
    """Restore `rng_states(device)`. A checkpoint loaded with map_location=device holds them on that
    device, while torch's setters take host tensors only: hence `.cpu()`. A bare tensor is the CPU
    state alone (checkpoints written before the device's state was kept). A checkpoint from another
    kind of device (a CPU run resumed on a GPU) restores the CPU's state alone: the GPU's generator
    then starts again from the run's seed, so the resumed run is not the uninterrupted one there."""
    if isinstance(states, torch.Tensor):
        states = {"cpu": states}
    torch.set_rng_state(states["cpu"].cpu())
    if "cuda" in states and device.type == "cuda":
        torch.cuda.set_rng_state(states["cuda"].cpu(), device)
    elif "mps" in states and device.type == "mps":
        torch.mps.set_rng_state(states["mps"].cpu())


def deterministic(device: torch.device) -> None:
    """On CUDA, cuDNN's deterministic algorithms (the strip reader's convolutions, the recurrent
    layers) and no autotuning, and full float32 there too (torch's default lets cuDNN multiply in
    TF32, 10-bit mantissas, where its matrix products already use float32), as on the CPU. Other
    CUDA kernels may still differ from run to run (torch's float cumsum, the backward of a gather and
    index_add, which sum in whatever order the GPU's threads arrive: ACT uses all three). The CPU's
    kernels are deterministic already."""
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.allow_tf32 = False


def compile_blocker(device: torch.device) -> str | None:
    """Why torch.compile cannot build kernels for `device` on this machine, or None when it can: on a
    GPU inductor needs Triton (not on Windows, for one) and a C compiler for Triton's launchers, on the
    CPU a C++ compiler; elsewhere (Apple MPS) we do not compile."""
    if device.type == "cuda":
        try:
            from torch.utils._triton import has_triton
        except ImportError:
            return "this torch has no Triton support"
        if not has_triton():
            return "torch.compile needs Triton on a GPU, and it is not installed"
        compilers = (os.environ.get("CC", ""), "gcc", "cc", "clang")
        return None if any(c and shutil.which(c) for c in compilers) else "Triton finds no C compiler"
    if device.type == "cpu":
        try:  # inductor's own search: it runs the compiler, and raises when there is none
            from torch._inductor.cpp_builder import get_cpp_compiler

            get_cpp_compiler()
        except Exception as e:  # noqa: BLE001 (whatever the search raises, or an older torch's ImportError)
            return f"torch.compile finds no C++ compiler for its CPU kernels ({type(e).__name__}: {e})"
        return None
    return f"torch.compile is not used on {device.type}"


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
