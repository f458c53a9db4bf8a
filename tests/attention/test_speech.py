from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from augrnn.attention import speech
from augrnn.attention.experiments import plan
from augrnn.attention.speech import EOS, PyramidalListener, SpeechConfig, edit_distance, log_mel, mel_filterbank
from augrnn.attention.summary import listeners
from fakes import make_fake


def test_mel_filterbank_and_features():
    fb = mel_filterbank()
    assert fb.shape == (40, 129) and torch.all(fb >= 0) and torch.all(fb.max(1).values > 0)
    feats = log_mel(torch.randn(8000) * 0.1)
    assert feats.shape == (101, 40) and torch.isfinite(feats).all()


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_pyramid_halves_time_and_masks_padding(cell):
    lst = PyramidalListener(40, 8, 3, cell)
    assert isinstance(lst.first, {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell])
    enc = lst(torch.randn(2, 80, 40), [80, 40])
    assert enc.annotations.shape == (2, 10, 16)
    assert enc.mask[0].all() and enc.mask[1].sum() == 5


def test_chapter_listens_with_the_papers_lstm_and_the_default_keeps_stored_gru_runs():
    """LAS's listener is a pBLSTM (sec. 3.1): the chapter's speech runs use it. The config's default stays
    "gru" because runs stored before the field existed were GRUs, and the reuse rule reads a missing field
    as its default."""
    assert SpeechConfig().model.cell == "gru"
    speech_runs = [p for p in plan("smoke") + plan("full") if p.key[0] == "speech"]
    assert speech_runs and all(p.config.model.cell == "lstm" for p in speech_runs)


def test_edit_distance_by_hand():
    assert edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert edit_distance([1, 3], [1, 2, 3]) == 1
    assert edit_distance([3, 2, 1], [1, 2, 3]) == 2
    assert edit_distance([], [4, 4]) == 2


def test_batches_from_generated_recordings_at_an_explicit_path(tmp_path):
    path = str(make_fake(tmp_path / "fsdd", digits=(0, 1, 2), takes=6))
    speech.recordings.cache_clear()
    speech._packed.cache_clear()
    try:
        data = speech.recordings(path)
        assert len(data["train"]) == 3 * 2 * 1 and len(data["test"]) == 3 * 2 * 5
        cfg = SpeechConfig(model={"hidden": 8, "pyramid": 1}, steps=2, batch_size=4, log_every=1, eval_size=4)
        b = speech.speech_batch(cfg, 4, torch.Generator().manual_seed(0), "cpu", n_digits=3, path=path)
        assert b["y"].shape == (4, 4) and torch.all(b["y"][:, -1] == EOS)
        assert b["x"].shape[0] == 4 and max(b["len"]) == b["x"].shape[1]
        # The gathered batch equals joining the same recordings one by one, as a plain loop would.
        picks = torch.randint(0, len(data["train"]), (4, 3), generator=torch.Generator().manual_seed(0))
        quiet = min(f.min() for _, f in data["train"][:50])
        utts = [
            torch.cat([torch.cat([data["train"][i][1], torch.full((speech.GAP, 40), float(quiet))]) for i in row])
            for row in picks.tolist()
        ]
        assert b["len"].tolist() == [len(u) for u in utts]
        assert torch.equal(b["x"], torch.nn.utils.rnn.pad_sequence(utts, batch_first=True))
        assert b["y"][:, :3].tolist() == [[data["train"][i][0] for i in row] for row in picks.tolist()]
        from augrnn.core.train import fit

        m = fit(speech.SpokenDigits(path), cfg, None, progress=False).metrics
        assert 0 <= m["test_digit_error"].iloc[-1] <= 2
    finally:
        speech.recordings.cache_clear()
        speech._packed.cache_clear()


def test_listener_table_reads_each_run_at_its_end_and_at_the_grus_budget():
    def run(steps, errors):
        metrics = pd.DataFrame({"step": range(100, steps + 1, 100), "test_digit_error": errors})
        return SimpleNamespace(config=SimpleNamespace(steps=steps), metrics=metrics)

    gru = {("attention", 0): run(300, [0.5, 0.2, 0.01])}
    lstm = {("attention", 0): run(600, [0.6, 0.3, 0.05, 0.04, 0.03, 0.02])}
    table = listeners(lstm, gru).set_index(["listener", "updates"])["digit error"]
    assert table.to_dict() == {("GRU", 300): 0.01, ("LSTM", 300): 0.05, ("LSTM", 600): 0.02}
