"""The FSDD loader on small data the tests make (never the real data set)."""

import tarfile

import numpy as np
import pytest

from augrnn.datasets import fsdd
from fakes import make_fake


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No AUGRNN_FSDD, no ../shared/data, an empty download cache."""
    monkeypatch.delenv("AUGRNN_FSDD", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("augrnn.core.io.repo_root", lambda: tmp_path / "nowhere" / "repo")
    return tmp_path


def test_explicit_path_then_environment_variable(isolated, monkeypatch):
    a, b = make_fake(isolated / "a"), make_fake(isolated / "b")
    monkeypatch.setenv("AUGRNN_FSDD", str(b))
    assert fsdd.find_fsdd(a, download=False) == a
    assert fsdd.find_fsdd(download=False) == b


def test_missing_data_set_gives_a_clear_error(isolated):
    with pytest.raises(FileNotFoundError) as err:
        fsdd.find_fsdd(download=False)
    msg = str(err.value)
    assert "Free Spoken Digit Dataset not found" in msg and "AUGRNN_FSDD" in msg and "download cache" in msg


def test_download_is_checked_against_the_checksum(isolated, serve):
    src = make_fake(isolated / "src" / "free-spoken-digit-dataset-1.0.9")
    archive = isolated / "fsdd.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="free-spoken-digit-dataset-1.0.9")
    good = fsdd.aggregate_checksum(src)
    with pytest.raises(OSError, match="checksum"):
        fsdd._download(isolated / "bad", serve(archive), checksum="0" * 64)
    root = fsdd._download(isolated / "good", serve(archive), checksum=good)
    assert fsdd.aggregate_checksum(root) == good and len(list((root / "recordings").glob("*.wav"))) == 8


def test_verify_rejects_a_modified_copy(isolated):
    root = make_fake(isolated / "a")
    with pytest.raises(OSError, match="does not match the published checksum"):
        fsdd.find_fsdd(root, download=False, verify=True)


def test_recordings_are_parsed_from_their_names(isolated):
    recs = fsdd.load_recordings(make_fake(isolated / "a"))
    assert len(recs) == 8 and {r["speaker"] for r in recs} == {"george", "theo"}
    assert recs[0]["rate"] == 8000 and recs[0]["audio"].dtype == np.float32
    assert np.abs(recs[0]["audio"]).max() <= 1
