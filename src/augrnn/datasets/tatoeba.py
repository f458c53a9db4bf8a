"""Tatoeba English-French sentence pairs (tatoeba.org, CC BY 2.0 FR), as the tab-separated `fra.txt`
that manythings.org/anki publishes: one pair a line, `English<TAB>French[<TAB>attribution]`.

Where the file is found, in order:
1. the `path` argument (the file itself, or a folder holding fra.txt);
2. the environment variable AUGRNN_TATOEBA (the same);
3. `../shared/data/tatoeba` beside the repository;
4. a download (pooch: cached, retried) of the fixed snapshot that the d2l.ai book mirrors
   (`fra-eng.zip`) into ~/.cache/augrnn (Colab), checked against its published SHA-1 before use.
Otherwise a FileNotFoundError says what was tried. Tatoeba changes daily, so an explicit file is
read as it is; `file_digest` names the version a run used.

Pairs are split by a hash of the English sentence, so no test sentence occurs in training, even
where Tatoeba holds several translations of it.
"""

from __future__ import annotations

import hashlib
import os
import random
import zlib
from functools import lru_cache
from pathlib import Path

from ..core.io import download, find_data
from .cldr import tokenize

ARCHIVE = "http://d2l-data.s3-accelerate.amazonaws.com/fra-eng.zip"
SHA1 = "94646ad1522d915e7b0f9296181140edcf86a4f5"  # as d2l.ai publishes it for this archive
FILE = "fra.txt"


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _download(dest: Path, url: str = ARCHIVE, sha1: str = SHA1) -> Path:
    import pooch

    files = download(url, f"sha1:{sha1}", dest, "fra-eng.zip", processor=pooch.Unzip())
    found = next((Path(f) for f in files if Path(f).name == FILE), None)
    if found is None:
        raise OSError(f"Tatoeba download from {url} holds no {FILE}")
    tmp = dest / f".{FILE}.part"
    tmp.write_bytes(found.read_bytes())
    os.replace(tmp, dest / FILE)  # atomic: a half-written file is never found
    return dest / FILE


def find_tatoeba(path: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """The pairs file, found as the module docstring says."""

    def present(where: Path, name: str):
        f = where / FILE if where.is_dir() else where
        return f if f.is_file() else None

    return find_data(
        "Tatoeba English-French pairs",
        path,
        "AUGRNN_TATOEBA",
        "tatoeba",
        present,
        _download if download else None,
        ARCHIVE,
        "Pass path=... or set AUGRNN_TATOEBA to fra.txt from https://www.manythings.org/anki/ "
        "(or a folder holding it).",
    )


def locate(path=None, *, download: bool = True) -> tuple[Path | None, str | None]:
    """(the pairs file, None) where `find_tatoeba` finds it, else (None, why not): for a chapter that
    runs its Tatoeba section only where the data are."""
    try:
        return find_tatoeba(path, download=download), None
    except FileNotFoundError as missing:
        return None, str(missing)


def split_of(english: list[str], test_share: int = 10) -> str:
    """A pair's split, fixed by its tokenised English sentence: 1 in `test_share` goes to test."""
    return "test" if zlib.crc32(" ".join(english).encode()) % test_share == 0 else "train"


@lru_cache(maxsize=2)
def load_pairs(path: Path, max_tokens: int = 50) -> dict[str, list[tuple[list[str], list[str]]]]:
    """Tokenised (English, French) pairs of at most `max_tokens` tokens a side, by split."""
    out = {"train": [], "test": []}
    seen = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        en, fr = tokenize(fields[0]), tokenize(fields[1])
        if not en or not fr or len(en) > max_tokens or len(fr) > max_tokens or (tuple(en), tuple(fr)) in seen:
            continue
        seen.add((tuple(en), tuple(fr)))
        out[split_of(en)].append((en, fr))
    return out


def make_pairs(path: Path, n: int, split: str, seed: int, max_tokens: int = 50):
    """`n` pairs of one split drawn without replacement (all of them if there are fewer), seeded."""
    if split not in ("train", "test"):
        raise ValueError(f"split = {split!r}; choose one of 'train', 'test'")
    pairs = load_pairs(path, max_tokens)[split]
    rng = random.Random(f"tatoeba-{split}-{seed}")
    return rng.sample(pairs, min(n, len(pairs)))
