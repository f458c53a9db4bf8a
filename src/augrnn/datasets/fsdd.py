"""The Free Spoken Digit Dataset (Jackson et al., CC BY-SA 4.0): 3,000 8 kHz recordings of the
digits 0-9 by 6 speakers, 50 takes each, named `{digit}_{speaker}_{take}.wav`.

Where the recordings are found, in order:
1. the `path` argument;
2. the environment variable AUGRNN_FSDD;
3. `../shared/data/fsdd` beside the repository (our build machines);
4. a download (pooch: cached, retried) of the repository's tagged archive (v1.0.9) into
   ~/.cache/augrnn (Colab), its recordings checked against the aggregate checksum below before use.
Otherwise a FileNotFoundError says what was tried.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..core.io import download, find_data

CHECKSUM = "04e1baae96c6a26e39c623f2b01d0182ddae627ba0ac02a3cdc17ba2af99fd9b"
ARCHIVE = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.9.tar.gz"
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")


def aggregate_checksum(root: Path) -> str:
    """sha256 of the `sha256sum` lines of recordings/*.wav in byte order, as the data README computes
    it: `find recordings -name '*.wav' | sort | xargs sha256sum | sha256sum`."""
    files = sorted(p.relative_to(root).as_posix() for p in (root / "recordings").glob("*.wav"))
    lines = "".join(f"{hashlib.sha256((root / f).read_bytes()).hexdigest()}  {f}\n" for f in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def _download(dest: Path, url: str = ARCHIVE, checksum: str = CHECKSUM) -> Path:
    import pooch

    # GitHub's tag archives are not byte-stable, so the archive has no fixed hash: the recordings
    # unpacked from it are checked against the aggregate checksum instead.
    files = download(url, None, dest, "fsdd.tar.gz", processor=pooch.Untar())
    wavs = [Path(f) for f in files if "/recordings/" in Path(f).as_posix() and f.endswith(".wav")]
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        (Path(tmp) / "recordings").mkdir()
        for f in wavs:
            shutil.copyfile(f, Path(tmp) / "recordings" / f.name)
        got = aggregate_checksum(Path(tmp))
        if got != checksum:
            raise OSError(f"FSDD download from {url} has checksum {got}, expected {checksum}")
        os.replace(Path(tmp) / "recordings", dest / "recordings")
    return dest


def find_fsdd(path: str | os.PathLike | None = None, *, download: bool = True, verify: bool = False) -> Path:
    """The folder holding recordings/, found as the module docstring says."""

    def present(root: Path, name: str):
        if not ((root / "recordings").is_dir() and any((root / "recordings").glob("*.wav"))):
            return None
        if verify and aggregate_checksum(root) != CHECKSUM:
            raise OSError(f"FSDD at {root} ({name}) does not match the published checksum {CHECKSUM}")
        return root

    return find_data(
        "Free Spoken Digit Dataset",
        path,
        "AUGRNN_FSDD",
        "fsdd",
        present,
        _download if download else None,
        ARCHIVE,
        "Pass path=..., or set AUGRNN_FSDD to a folder holding recordings/*.wav.",
    )


def load_recordings(root: Path) -> list[dict]:
    """Every recording as {'digit', 'speaker', 'take', 'audio' (float32 in [-1, 1]), 'rate'}."""
    from scipy.io import wavfile

    out = []
    for p in sorted((Path(root) / "recordings").glob("*.wav")):
        digit, speaker, take = p.stem.split("_")
        rate, audio = wavfile.read(p)
        out.append(
            {
                "digit": int(digit),
                "speaker": speaker,
                "take": int(take),
                "rate": rate,
                "audio": (audio.astype(np.float32) / 32768.0),
            }
        )
    return out
