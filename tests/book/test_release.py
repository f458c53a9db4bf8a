import json
import shutil

import pytest

from augrnn.book import release
from augrnn.core.io import repo_root


def test_the_repository_url_and_ref_agree_everywhere():
    assert release.check() == []


def copy_of_the_release_files(tmp_path):
    root = repo_root()
    for name in ("_config.yml", "CITATION.cff", "pyproject.toml"):
        shutil.copy(root / name, tmp_path / name)
    (tmp_path / "book").mkdir()
    for nb in (root / "book").glob("*.ipynb"):
        shutil.copy(nb, tmp_path / "book" / nb.name)
    return tmp_path


def test_set_points_the_badge_the_install_cells_and_the_version_at_one_ref(tmp_path):
    root = copy_of_the_release_files(tmp_path)
    release.set_ref("v9.8.7", root)
    assert release.check(root) == []
    assert release.setting(root)[1] == "v9.8.7"
    for nb in (root / "book").glob("*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        (cell,) = [c for c in cells if release.MARKER in "".join(c["source"])]
        source = "".join(cell["source"])
        assert '"v9.8.7"' in source and cell["metadata"]["tags"] == ["remove-cell"]
        compile(source, nb.name, "exec")
    assert "version: 9.8.7\n" in (root / "CITATION.cff").read_text()
    assert 'version = "9.8.7"' in (root / "pyproject.toml").read_text()
    # a notebook left behind is reported by name
    nb = next((root / "book").glob("*.ipynb"))
    text = nb.read_text().replace("v9.8.7", "v9.8.6")
    nb.write_text(text)
    assert any(nb.name in p for p in release.check(root))


def test_a_ref_that_is_not_a_release_tag_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ref = 'main'; give a release tag like 'v0.2.0'"):
        release.set_ref("main", copy_of_the_release_files(tmp_path))
