"""The Tatoeba loader on a small pairs file the tests write (never the real data set)."""

import hashlib
import zipfile

import pytest
import torch

from augrnn.attention.translation import Translation, TranslationConfig, bleu_by_length, bleu_scores
from augrnn.datasets import tatoeba

LINES = [f"I have {n} cats.\tJ'ai {n} chats.\tCC-BY 2.0 (France) Attribution: tatoeba.org" for n in range(300)]
LINES += ["Hello!\tBonjour !", "Hello!\tSalut !", "Hello!\tBonjour !", "no tab here"]


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No AUGRNN_TATOEBA, no ../shared/data, an empty download cache."""
    monkeypatch.delenv("AUGRNN_TATOEBA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("augrnn.core.io.repo_root", lambda: tmp_path / "nowhere" / "repo")
    tatoeba.load_pairs.cache_clear()
    return tmp_path


def write(folder, lines=LINES):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fra.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "fra.txt"


def test_explicit_path_then_environment_variable(isolated, monkeypatch):
    a, b = write(isolated / "a"), write(isolated / "b")
    monkeypatch.setenv("AUGRNN_TATOEBA", str(b.parent))
    assert tatoeba.find_tatoeba(a, download=False) == a
    assert tatoeba.find_tatoeba(a.parent, download=False) == a
    assert tatoeba.find_tatoeba(download=False) == b
    assert tatoeba.locate(download=False) == (b, None)


def test_missing_data_set_gives_a_clear_error(isolated):
    with pytest.raises(FileNotFoundError) as err:
        tatoeba.find_tatoeba(download=False)
    msg = str(err.value)
    assert tatoeba.locate(download=False) == (None, msg)
    assert "Tatoeba English-French pairs not found" in msg and "AUGRNN_TATOEBA" in msg and "download cache" in msg


def test_download_is_checked_against_the_checksum(isolated, serve):
    archive = isolated / "fra-eng.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("fra-eng/fra.txt", "\n".join(LINES))
    good = hashlib.sha1(archive.read_bytes()).hexdigest()
    with pytest.raises(OSError, match="hash"):
        tatoeba._download(isolated / "bad", serve(archive), sha1="0" * 40)
    assert not (isolated / "bad" / "fra.txt").exists()
    got = tatoeba._download(isolated / "good", serve(archive), sha1=good)
    assert got.read_text(encoding="utf-8").splitlines() == LINES


def test_pairs_are_split_by_english_sentence_deduplicated_and_seeded(isolated):
    f = write(isolated / "a")
    pairs = tatoeba.load_pairs(f)
    every = pairs["train"] + pairs["test"]
    assert len(every) == 302  # 300 cats, two distinct translations of "hello !", one duplicate dropped
    assert (["hello", "!"], ["bonjour", "!"]) in every and (["hello", "!"], ["salut", "!"]) in every
    train_en = {" ".join(e) for e, _ in pairs["train"]}
    assert pairs["test"] and not train_en & {" ".join(e) for e, _ in pairs["test"]}
    a = tatoeba.make_pairs(f, 50, "train", 0)
    assert a == tatoeba.make_pairs(f, 50, "train", 0) and a != tatoeba.make_pairs(f, 50, "train", 1)
    assert len(tatoeba.make_pairs(f, 10_000, "test", 0)) == len(pairs["test"])
    assert max(len(e) for e, _ in tatoeba.load_pairs(f, max_tokens=3)["train"]) <= 3


def test_the_translation_experiment_runs_on_tatoeba_pairs(isolated):
    from augrnn.core.train import fit

    f = write(isolated / "a")
    cfg = TranslationConfig(
        corpus="tatoeba",
        train_pairs=200,
        test_pairs=20,
        steps=20,
        batch_size=16,
        log_every=10,
        lr=3e-3,
        model={"embed": 16, "hidden": 32},
        max_out=12,
    )
    run = fit(Translation(f), cfg, None, progress=False)
    s = bleu_scores(run.model, cfg, next(run.model.parameters()).device, path=f)
    assert len(s["hyps"]) == len(s["refs"]) > 0 and 0 <= s["bleu"] <= 100
    assert " ".join(s["srcs"][0]).startswith(("i have", "hello"))
    table = bleu_by_length({("attention", 0): s}, bins=(0, 4, 200))
    assert table["n"].sum() == len(s["hyps"]) and set(table.columns) >= {"model", "seed", "BLEU"}
    torch.manual_seed(0)
