"""One setting for where readers get the code: the repository URL and the release ref (a tag).

`_config.yml` holds both (`repository.url`, `repository.branch`): the book's "Open in Colab" button
opens each chapter at that ref, and every chapter's first code cell clones the same repository at
the same ref when the package is not installed (on Colab, or for a notebook downloaded on its own).
CITATION.cff and pyproject.toml carry the version the ref names.

    python -m augrnn.book.release check        # do they all agree? (also a test)
    python -m augrnn.book.release set v0.2.0   # point everything at a new release (see RELEASING.md)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

from ..core.io import repo_root

MARKER = "# set by augrnn.book.release"


def install_cell(url: str, ref: str) -> str:
    return f'''# Outside a clone of the repository (on Colab, or this notebook downloaded on its own): fetch the
# repository at the book's release and install the package (a Colab runtime keeps its own torch).
import os
import subprocess
import sys

REPOSITORY, REF = "{url}", "{ref}"  {MARKER}
try:
    import augrnn  # noqa: F401
except ImportError:
    subprocess.run(["git", "clone", "--depth", "1", "--branch", REF, REPOSITORY, "augrnn-repo"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "augrnn-repo"], check=True)
    sys.path.insert(0, os.path.abspath("augrnn-repo/src"))
    os.chdir("augrnn-repo/book")'''


def setting(root: Path) -> tuple[str, str]:
    """(repository URL, release ref) from _config.yml."""
    repo = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    return repo["url"], str(repo["branch"])


def notebooks(root: Path) -> list[Path]:
    return sorted((root / "book").glob("*.ipynb"))


def _install_cell_index(nb: dict) -> int | None:
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and MARKER in "".join(cell["source"]):
            return i
    return None


def check(root: Path | None = None) -> list[str]:
    """Every disagreement with _config.yml's URL and ref, as readable lines (empty: all agree)."""
    root = root or repo_root()
    url, ref = setting(root)
    problems = []
    if not re.fullmatch(r"v\d+\.\d+\.\d+", ref):
        problems.append(f"_config.yml: repository.branch = {ref!r} is not a release tag like 'v0.1.0'")
    version = ref.removeprefix("v")
    expected = install_cell(url, ref)
    for path in notebooks(root):
        nb = json.loads(path.read_text())
        i = _install_cell_index(nb)
        if i is None:
            problems.append(f"{path.name}: no install cell (one marked {MARKER!r})")
        elif "".join(nb["cells"][i]["source"]) != expected:
            problems.append(f"{path.name}: install cell differs from the one for {url} at {ref}")
    cff = (root / "CITATION.cff").read_text()
    if f"version: {version}\n" not in cff or f'repository-code: "{url}"' not in cff:
        problems.append(f"CITATION.cff: expected version {version} and repository-code {url}")
    if f'version = "{version}"' not in (root / "pyproject.toml").read_text():
        problems.append(f"pyproject.toml: expected version = {version!r}")
    return problems


def set_ref(ref: str, root: Path | None = None) -> None:
    """Point _config.yml, every chapter's install cell, CITATION.cff and pyproject.toml at `ref`."""
    if not re.fullmatch(r"v\d+\.\d+\.\d+", ref):
        raise ValueError(f"ref = {ref!r}; give a release tag like 'v0.2.0'")
    root = root or repo_root()
    config = root / "_config.yml"
    config.write_text(re.sub(r"(\n  branch: ).*", rf"\g<1>{ref}", config.read_text(), count=1))
    url, _ = setting(root)
    version = ref.removeprefix("v")
    for path in notebooks(root):
        nb = json.loads(path.read_text())
        i = _install_cell_index(nb)
        if i is None:
            raise ValueError(f"{path}: no install cell marked {MARKER!r}")
        nb["cells"][i]["source"] = install_cell(url, ref).splitlines(keepends=True)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    cff = root / "CITATION.cff"
    cff.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}", cff.read_text(), count=1))
    pyproject = root / "pyproject.toml"
    pyproject.write_text(re.sub(r'(?m)^version = ".*"$', f'version = "{version}"', pyproject.read_text(), count=1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m augrnn.book.release", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="do the URL and ref agree everywhere?")
    s = sub.add_parser("set", help="point everything at a release tag")
    s.add_argument("ref", help="a release tag, e.g. v0.2.0")
    args = ap.parse_args(argv)
    if args.command == "set":
        set_ref(args.ref)
    problems = check()
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
