"""core/native.py: building the C++ loops, and falling back to the Python ones where that fails.
(Each C++ file's numbers are tested beside its Python code, e.g. tests/act/test_ponder.py.)"""

import os
import time
from pathlib import Path

import pytest

import augrnn.act
from augrnn.core import native

PONDER = Path(augrnn.act.__file__).with_name("ponder.cpp")


def test_without_the_cpp_loops_the_python_ones_run(monkeypatch):
    monkeypatch.setenv("AUGRNN_NATIVE", "0")
    native.load.cache_clear()
    try:
        assert native.load(PONDER) is None
    finally:
        native.load.cache_clear()


def test_a_source_that_does_not_build_warns_and_gives_none(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    bad = tmp_path / "broken.cpp"
    bad.write_text("this is not C++\n")
    with pytest.warns(UserWarning, match="broken.cpp"):
        assert native.load(bad) is None


def test_a_lock_left_by_a_killed_build_is_cleared(tmp_path):
    """torch's builder waits as long as its lock file exists; one older than any build is removed."""
    lock = tmp_path / "lock"
    lock.touch()
    native._clear_stale_lock(lock)
    assert lock.exists()  # a build under way
    old = time.time() - 3600
    os.utime(lock, (old, old))
    native._clear_stale_lock(lock)
    assert not lock.exists()


def test_flags_a_compiler_refuses_give_way_to_the_portable_ones(tmp_path, monkeypatch):
    """-march=native first; a compiler that refuses it (older Apple clang) builds with the second set."""
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    monkeypatch.setattr(native, "FLAGS", (["-O3", "--no-such-flag-here"], native.FLAGS[-1]))
    source = tmp_path / "small.cpp"
    source.write_text(
        "#include <pybind11/pybind11.h>\nint two() { return 2; }\n"
        'PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("two", &two); }\n'
    )
    assert native.load(source).two() == 2
