"""C++ versions of a few hot loops, built on first use with torch's extension builder.

A C++ loop gives the same numbers as the Python code it stands for, to the last bit (each has a test
of that): it calls the same ATen operations in the same order, or does the same element-wise
arithmetic (products and sums, each rounded as torch rounds it, without fused multiply-adds) in one
pass where Python makes a dozen calls. What it saves is torch's and Python's cost per call, a few
microseconds, which in a loop of small operations is most of the time. The first use on a machine
compiles the source (about 15 s; it needs a C++ compiler, as torch.compile on a CPU does) into
torch's extension cache (TORCH_EXTENSIONS_DIR, by default ~/.cache/torch_extensions); later uses load
it from there. Where it cannot be built, or with AUGRNN_NATIVE=0, the Python code runs instead, with
one warning (none for AUGRNN_NATIVE=0).
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import time
import warnings
from pathlib import Path

import torch

# -O3 -march=native: vectorised for this machine's CPU, which builds it for itself. -ffp-contract=off:
# no fused multiply-adds, so each product and sum is rounded as torch rounds it. A compiler that
# refuses -march=native (older Apple clang) gets the second set.
FLAGS = (["-O3", "-march=native", "-ffp-contract=off"], ["-O3", "-ffp-contract=off"])


@functools.cache
def load(source: str | Path):
    """The extension built from the C++ file `source` (its functions as attributes), or None."""
    source = Path(source)
    if os.environ.get("AUGRNN_NATIVE", "1") == "0":
        return None
    try:
        from torch.utils import cpp_extension  # (it needs setuptools)
    except Exception as e:
        return _fall_back(source, e)
    _ninja_on_path()
    error = None
    for flags in FLAGS:
        # The source, torch's version, the flags and the CPU's vector capability in the name: other code,
        # another torch, or a cache shared with another kind of CPU gets a build of its own.
        identity = [source.read_bytes(), torch.__version__, " ".join(flags), _cpu()]
        key = hashlib.sha256(repr(identity).encode()).hexdigest()[:12]
        name = f"augrnn_{source.stem}_{key}"
        try:
            # the folder torch's builder uses (under TORCH_EXTENSIONS_DIR, else its cache), made if missing
            _clear_stale_lock(Path(cpp_extension._get_build_directory(name, verbose=False), "lock"))
            return cpp_extension.load(name, [str(source)], extra_cflags=flags, verbose=False)
        except Exception as e:  # no compiler, no ninja, a failed build: the Python code gives the same numbers
            error = e
    return _fall_back(source, error)


def _fall_back(source: Path, error: Exception) -> None:
    """Warn, quoting why the build failed; the caller then runs the Python version."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    why = " / ".join([line for line in lines if "error" in line.lower()][:3] or lines[-1:])
    warnings.warn(
        f"augrnn: could not build {source.name} ({type(error).__name__}: {why[:400]}); "
        "running its Python version instead (the same numbers, slower)",
        stacklevel=2,
    )
    return None


def _cpu() -> str:
    """The machine and the widest vector instructions torch found on its CPU (e.g. 'x86_64 AVX2')."""
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except Exception:  # an older torch
        capability = "unknown"
    return f"{platform.machine()} {capability}"


def _ninja_on_path() -> None:
    """torch's builder runs `ninja` from PATH; the pip package `ninja` (a dependency) puts it in the
    environment's bin folder, which is not on PATH when Python runs without the environment activated."""
    if shutil.which("ninja") is None:
        try:
            import ninja

            os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")
        except ImportError:
            pass  # the build then fails with torch's own message, and the Python code runs


def _clear_stale_lock(lock: Path, stale_after_s: float = 600.0) -> None:
    """torch's builder holds a lock file while it builds and waits, without end, while one exists. A
    process killed mid-build (a notebook kernel restarted, say) leaves it behind; a build takes
    seconds, so a lock older than `stale_after_s` is such a leftover."""
    try:
        if time.time() - lock.stat().st_mtime > stale_after_s:
            lock.unlink(missing_ok=True)
    except FileNotFoundError:
        pass
