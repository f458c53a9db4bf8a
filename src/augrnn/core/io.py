"""Atomic file writes and the repository's folders.

Every file the project writes goes through a temporary file and `os.replace`, so an interrupted run
leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from pathlib import Path

import torch


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_bytes(path, data: bytes) -> Path:
    return _atomic(path, lambda f: f.write(data))


def write_text(path, text: str) -> Path:
    return write_bytes(path, text.encode())


def to_json(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"


def write_json(path, obj) -> Path:
    return write_text(path, to_json(obj))


def read_json(path):
    return json.loads(Path(path).read_text())


def save_torch(path, obj, compress: bool = False) -> Path:
    """torch.save, atomically; with `compress`, gzip-ed (lossless: float weights shrink by ~7%, which
    keeps the committed models of the larger baselines under the repository's 5 MB per file)."""
    if not compress:
        return _atomic(path, lambda f: torch.save(obj, f))
    buf = io.BytesIO()
    torch.save(obj, buf)
    return write_bytes(path, gzip.compress(buf.getvalue(), compresslevel=9, mtime=0))


def load_torch(path, **kwargs):
    """torch.load of a file that `save_torch` wrote, compressed or not."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":  # the gzip magic number; torch's own files start with PK (zip)
        raw = gzip.decompress(raw)
    return torch.load(io.BytesIO(raw), **kwargs)


def repo_root() -> Path:
    """The checkout this package runs from: $AUGRNN_ROOT, else the first parent with pyproject.toml
    and book/ (searched from the working directory, then from this file)."""
    if os.environ.get("AUGRNN_ROOT"):
        return Path(os.environ["AUGRNN_ROOT"]).resolve()
    for start in (Path.cwd().resolve(), Path(__file__).resolve()):
        for d in (start, *start.parents):
            if (d / "pyproject.toml").is_file() and (d / "book").is_dir():
                return d
    raise FileNotFoundError(
        "cannot find the augrnn repository (a folder with pyproject.toml and book/); "
        "run from inside a clone or set AUGRNN_ROOT"
    )


def find_data(what: str, path, env: str, folder: str, present, download=None, source: str = "", hint: str = "") -> Path:
    """Where a data set is, in the order every loader uses: the `path` argument, the environment
    variable `env`, ../shared/data/<folder> beside the repository, the download cache
    ~/.cache/augrnn/<folder>, and last `download(cache)` (from `source`), if given.

    `present(place)` returns what to use at a place, or None where the data are not there. When
    nothing works, a FileNotFoundError names every place tried."""
    candidates = [("path argument", path), (env, os.environ.get(env))]
    try:
        candidates.append(("../shared/data", repo_root().parent / "shared" / "data" / folder))
    except FileNotFoundError:
        pass
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "augrnn" / folder
    candidates.append(("download cache", cache))
    tried = []
    for name, where in candidates:
        if where is None:
            continue
        found = present(Path(where), name)
        if found is not None:
            return found
        tried.append(f"{name}: {where}")
    if download is not None:
        try:
            return download(cache)
        except OSError as e:  # no network (URLError is an OSError), or a bad archive
            tried.append(f"download from {source}: {e}")
    raise FileNotFoundError(f"{what} not found. {hint} Tried: " + "; ".join(tried))


def download(url: str, known_hash: str | None, folder: Path, fname: str, processor=None):
    """Fetch `url` into `folder/fname` with pooch: kept there as a cache, checked against `known_hash`
    ("sha1:...", "sha256:..."; None where the source is not byte-stable and the caller checks what it
    unpacks), retried twice on a network error. Returns what `processor` returns (pooch.Unzip: the
    unpacked files), else the file's path. Any failure is an OSError that says why."""
    import pooch

    pooch.get_logger().setLevel("WARNING")  # no "Downloading ..." lines in the chapters' output
    store = pooch.create(path=folder, base_url="", registry={fname: known_hash}, urls={fname: url}, retry_if_failed=2)
    try:
        return store.fetch(fname, processor=processor, progressbar=False)
    except ValueError as e:  # pooch's hash mismatch (it deletes the file)
        raise OSError(f"download from {url}: {e}") from None
