"""A bad parameter passed through papermill fails clearly and leaves earlier results untouched."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox(tmp_path):
    """A minimal copy of the repository with an earlier executed notebook and stored results."""
    for name in ("pyproject.toml", "_toc.yml", "_config.yml", "references.bib"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book")
    earlier = tmp_path / "_build" / "executed" / "book" / "soft_lookup.ipynb"
    earlier.parent.mkdir(parents=True)
    earlier.write_text('{"earlier": "executed copy"}')
    stored = tmp_path / "data" / "results" / "soft_lookup" / "dot-seed0" / "metrics.csv"
    stored.parent.mkdir(parents=True)
    stored.write_text("step,loss\n1,0.5\n")
    return tmp_path, earlier, stored


def runbook(root, *args):
    env = {**os.environ, "AUGRNN_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "augrnn.book.runbook", "execute", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "params, words",
    [
        (["-p", "scale", "huge"], ["scale = 'huge' is not allowed", "'smoke', 'full'"]),
        (["-p", "seeds", "0"], ["seeds = 0 is out of range", ">= 1"]),
    ],
)
def test_bad_parameter_fails_clearly_and_keeps_earlier_results(sandbox, params, words):
    root, earlier, stored = sandbox
    before = (earlier.read_bytes(), stored.read_bytes())
    proc = runbook(root, "--scale", "smoke", *params, "book/soft_lookup.ipynb")
    assert proc.returncode != 0
    for w in words:
        assert w in proc.stderr, proc.stderr[-2000:]
    assert (earlier.read_bytes(), stored.read_bytes()) == before
    assert not list(earlier.parent.glob(".*running*")), "no half-written notebook is left behind"
    assert not (root / "_build" / "runs").exists(), "nothing was trained"


def test_bad_scale_is_refused_before_any_notebook_runs(sandbox):
    root, earlier, _ = sandbox
    proc = runbook(root, "--scale", "huge")
    assert proc.returncode == 2
    assert "argument --scale: invalid choice: 'huge'" in proc.stderr
    assert "smoke" in proc.stderr and "full" in proc.stderr
    assert earlier.read_text() == '{"earlier": "executed copy"}'


def test_the_injected_parameters_cell_is_hidden_from_the_book(tmp_path):
    import nbformat

    from augrnn.book.runbook import hide_injected_parameters

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('scale = "full"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('scale = "smoke"', metadata={"tags": ["injected-parameters"]}),
    ]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    hide_injected_parameters(path)
    tags = [c.metadata.get("tags") for c in nbformat.read(path, as_version=4).cells]
    assert tags == [["parameters"], ["injected-parameters", "remove-cell"]]
