"""Every chapter's plan against what is stored, and the chapters against the plans."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from augrnn.book.chapters import CHAPTERS
from augrnn.book.tables import setup_table
from augrnn.core import io
from augrnn.core.train import stored_as

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "data" / "results"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_stored_runs_are_exactly_the_full_scale_plan(chapter):
    plan = {p.name: p for p in CHAPTERS[chapter].plan("full")}
    assert len(plan) == len(CHAPTERS[chapter].plan("full")), "run names must be unique"
    stored = {p.parent.name: io.read_json(p) for p in (RESULTS / chapter).glob("*/provenance.json")}
    assert sorted(set(stored) - set(plan)) == [], "stored runs that no plan makes (orphans)"
    assert sorted(set(plan) - set(stored)) == [], "planned full-scale runs with no stored result"
    for name, rec in stored.items():
        cfg = plan[name].config
        assert rec["config_class"] == type(cfg).__name__, name
        assert stored_as(rec, cfg), f"{name}: the stored config is not the planned one"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_smoke_plans_are_valid_and_seeds_means_the_headline_seeds(chapter):
    module = CHAPTERS[chapter]
    smoke = module.plan("smoke")
    kinds = lambda plan: {(type(p.config), p.key[0]) for p in plan}
    assert kinds(smoke) == kinds(module.plan("full")), "smoke runs every kind of experiment the full scale runs"
    one, two = module.plan("smoke", 1), module.plan("smoke", 2)
    assert len(two) > len(one) and max(p.config.seed for p in two) == 1


def test_setup_tables_have_both_sides_of_every_setting():
    for module in CHAPTERS.values():
        if hasattr(module, "setup"):
            table = setup_table(module, "full")
            assert (table["here"] != "").all() and (table["paper"] != "").all()


NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def code_cells(path):
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_are_short_and_define_no_experiment_sizes(path):
    code = code_cells(path)
    assert sum(len(c.splitlines()) for c in code) < 100, "move code into the package"
    text = "\n".join(code)
    for pattern in (r"Config\(", r"\bsteps=\d", r"batch_size=", r"\bP = \{", r"lr="):
        assert not re.search(pattern, text), f"{path.name} defines {pattern!r}: sizes belong in experiments.py"


def test_every_included_function_exists():
    includes = []
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        includes += re.findall(r"```\{literalinclude\} (/\S+)\n:pyobject: (\w+)", text)
    assert includes, "the chapters show their mechanisms' code"
    for file, name in includes:
        tree = ast.parse((ROOT / file.lstrip("/")).read_text())
        names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert name in names, f"{file} defines no {name}"


def cli(*args, root=ROOT):
    env = {**os.environ, "AUGRNN_ROOT": str(root), "AUGRNN_PROGRESS": "0"}
    return subprocess.run(
        [sys.executable, "-m", "augrnn", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_lists_a_plan_and_reuses_a_stored_run_without_training():
    listed = cli("list", "ntm")
    assert listed.returncode == 0 and "copy-ntm-seed0" in listed.stdout and "associative_recall" in listed.stdout
    model = RESULTS / "ntm" / "copy-ntm-seed0" / "model.pt"
    before = model.stat().st_mtime_ns
    proc = cli("train", "soft_lookup", "--scale", "full", "--only", "dot-seed0")
    assert proc.returncode == 0, proc.stderr
    stored = io.read_json(RESULTS / "soft_lookup" / "dot-seed0" / "provenance.json")
    assert f"dot-seed0: {stored['wall_time_s']} s training" in proc.stdout
    assert model.stat().st_mtime_ns == before


def test_cli_trains_one_smoke_run_and_refuses_bad_input(tmp_path):
    proc = cli("train", "soft_lookup", "--scale", "smoke", "--seed", "1", "--only", "dot-*", root=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "_build" / "runs" / "soft_lookup" / "dot-seed1" / "provenance.json").exists()
    assert not (tmp_path / "_build" / "runs" / "soft_lookup" / "uniform-seed1").exists()
    bad = cli("train", "soft_lookup", "--only", "nothing-*", root=tmp_path)
    assert bad.returncode == 2 and "match no planned run" in bad.stderr
    assert "invalid choice: 'tm'" in cli("list", "tm").stderr


def test_every_module_the_prose_names_exists():
    """`augrnn.x.y` in a chapter's text names a module, or an object in one, that exists."""
    import importlib

    bad = []
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for name in set(re.findall(r"`augrnn\.([\w.]+)`", text)):
            parts = name.split(".")
            for k in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module("augrnn." + ".".join(parts[:k]))
                    for attr in parts[k:]:
                        obj = getattr(obj, attr)
                    break
                except (ImportError, AttributeError):
                    continue
            else:
                bad.append(f"{path.name}: augrnn.{name}")
    assert bad == []


def test_every_ntm_network_has_the_papers_parameter_count(tmp_path, monkeypatch):
    from augrnn.book.tables import beside_paper
    from augrnn.core.config import ConfigError
    from augrnn.ntm import analysis, experiments

    table = beside_paper(
        analysis.parameter_counts(experiments.plan("full")), "ntm_parameters", ["task", "model"], "parameters"
    )
    matched = table[~table["network"].str.contains("4 read \\+ 1|5 read", regex=True)]
    assert matched["ours / paper"].between(0.8, 1.05).all(), "our networks are the paper's, up to small details"
    (tmp_path / "data" / "reference").mkdir(parents=True)
    (tmp_path / "data" / "reference" / "x.csv").write_text("task,model,parameters\ncopy,NTM,1\n")
    monkeypatch.setenv("AUGRNN_ROOT", str(tmp_path))
    with pytest.raises(ConfigError, match="no row for"):
        beside_paper(table[["task", "model", "parameters"]], "x", ["task", "model"], "parameters")
