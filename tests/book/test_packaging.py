"""The repository's own promises: dependencies in step, notebooks stored clean, book files consistent."""

import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml

from augrnn.book import release
from augrnn.book.runbook import toc_files

ROOT = Path(__file__).resolve().parents[2]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    proj = pyproject()
    wanted = set(proj["dependencies"]) | {r for extra in proj["optional-dependencies"].values() for r in extra}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {r for r in pip_section if not r.startswith("-e")}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; only in pyproject: {wanted - listed}"


def test_constraints_pin_every_dependency():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    proj = pyproject()
    for req in proj["dependencies"] + [r for e in proj["optional-dependencies"].values() for r in e]:
        assert _name(req) in pins, f"{req} is not pinned in constraints.txt (run `make constraints`)"
    assert pins["torch"] == "2.13.0"
    major = int(pins["jupyter-book"].split(".")[0])
    assert major == 1, "Jupyter Book 2 does not read _config.yml/_toc.yml as they are"


NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_clean_with_a_parameters_cell(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), "strip the outputs"
    params = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1
    src = "".join(params[0]["source"])
    assert re.search(r"^scale = \"(smoke|full)\"", src, re.M)
    # papermill needs plain literals in the parameters cell
    for line in src.splitlines():
        value = line.split("#")[0].partition("=")[2].strip()
        if value:
            yaml.safe_load(value.replace("True", "true").replace("False", "false"))
    if path.stem != "appendix_reproducibility":  # the appendix lists timings, nothing to compare
        assert any("nbval-check-output" in c["metadata"].get("tags", []) for c in code), (
            "tag at least one deterministic cell nbval-check-output"
        )
    first_code = "".join(code[0]["source"])
    assert release.MARKER in first_code, "the first code cell installs the package where it is missing"


def test_every_notebook_is_in_the_book_and_every_toc_entry_exists():
    listed = {p.resolve() for p in toc_files(ROOT)}
    assert set(p.resolve() for p in NOTEBOOKS) <= listed
    names = {p.name for p in listed}
    assert {"intro.md", "soft_lookup.ipynb", "appendix_reproducibility.ipynb", "cite.md", "bibliography.md"} <= names


def test_config_has_colab_button_bibliography_and_no_execution():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert "colab" in cfg["launch_buttons"]["colab_url"]
    assert cfg["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert (ROOT / cfg["bibtex_bibfiles"][0]).exists()


def test_cite_page_matches_citation_cff():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    page = (ROOT / "book" / "cite.md").read_text()
    assert f"title   = {{{cff['title']}}}" in page
    assert f"version = {{{cff['version']}}}" in page
    assert f"url     = {{{cff['repository-code']}}}" in page
    assert cff["version"] == pyproject()["version"]
    import augrnn

    assert augrnn.__version__ == cff["version"]


def test_every_cited_key_is_in_the_bibliography():
    bib = (ROOT / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    cited = set()
    for path in (ROOT / "book").glob("*"):
        if path.suffix in {".md", ".ipynb"}:
            for group in re.findall(r"\{cite[pt]?\}`([^`]+)`", path.read_text()):
                cited |= {k.strip() for k in group.split(",")}
    assert cited and cited <= keys, f"missing from references.bib: {cited - keys}"


def test_visited_locations_unwraps_a_head_moving_backwards():
    import numpy as np

    from augrnn.book.plots import visited_locations

    w = np.zeros((4, 10))
    for t, loc in enumerate([0, 9, 8, 7]):  # a head stepping backwards and wrapping around
        w[t, loc] = 1.0
    (crop,), labels = visited_locations(w)
    assert labels == ["7", "8", "9", "0"]
    assert crop.shape == (4, 4) and [int(np.argmax(r)) for r in crop] == [3, 2, 1, 0]
