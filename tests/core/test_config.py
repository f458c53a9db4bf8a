from dataclasses import dataclass

import pytest

from augrnn.core.config import ConfigError, TrainConfig, bounded, check_scale, choice


@dataclass(frozen=True)
class Demo(TrainConfig):
    width: int = bounded(8, 1, 64)
    cell: str = choice("lstm", ("lstm", "gru"))
    rate: float = bounded(0.5, 0.0, 1.0, lo_open=True)


def test_defaults_are_valid():
    assert Demo().width == 8


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"width": 0}, ["Demo.width", "1 <= value <= 64"]),
        ({"width": 2.5}, ["Demo.width", "whole number"]),
        ({"cell": "rnn"}, ["Demo.cell", "'lstm', 'gru'"]),
        ({"rate": 0.0}, ["Demo.rate", "0.0 < value <= 1.0"]),
        ({"lr": -1.0}, ["Demo.lr"]),
        ({"device": "tpu"}, ["Demo.device", "'auto', 'cpu', 'cuda', 'mps'"]),
        ({"width": "8"}, ["Demo.width", "must be a number"]),
    ],
)
def test_bad_values_name_the_parameter_and_what_is_allowed(kwargs, words):
    with pytest.raises(ConfigError) as err:
        Demo(**kwargs)
    for w in words:
        assert w in str(err.value)


def test_unknown_parameter_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) 'widht' for Demo; allowed: .*width"):
        Demo.from_dict({"widht": 3})
    with pytest.raises(ConfigError, match="widht"):
        Demo().replace(widht=3)


def test_fingerprint_tracks_what_changes_numbers_only():
    a = Demo()
    assert a.fingerprint() == Demo(device="cpu", checkpoint_every=7).fingerprint()
    assert a.fingerprint() != Demo(seed=1).fingerprint()
    assert a.fingerprint() != Demo(width=9).fingerprint()
    assert Demo.from_dict(a.to_dict()) == a


def test_scale_check():
    assert check_scale("smoke") == "smoke"
    with pytest.raises(ConfigError, match="scale = 'huge' is not allowed; choose one of 'smoke', 'full'"):
        check_scale("huge")


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(scale="big"), "scale = 'big' is not allowed"),
        (dict(scale="smoke", retrain="yes"), "retrain = 'yes' is not allowed; choose one of True, False"),
        (dict(scale="smoke", seeds=0), "seeds = 0 is out of range"),
        (dict(scale="smoke", seeds=True), "seeds = True is out of range"),
        (dict(scale="smoke", tatoeba=3), "tatoeba = 3 is not allowed; give a path as a string"),
        (dict(scale="smoke", tatoeba="/no/such/fra.txt"), "tatoeba = '/no/such/fra.txt': no such file or folder"),
    ],
)
def test_chapter_parameters_are_checked(kwargs, words):
    from augrnn.book import check_parameters

    with pytest.raises(ConfigError, match=words):
        check_parameters(**kwargs)
    check_parameters("full", False, 3)
    check_parameters("full", False, 3, tatoeba="")


def test_a_nested_model_config_is_built_replaced_checked_and_fingerprinted():
    from augrnn.core.train import same_experiment
    from augrnn.ntm.model import NTMModelConfig
    from augrnn.ntm.tasks import NTMConfig

    cfg = NTMConfig.from_dict({"task": "copy", "model": {"kind": "lstm", "lstm_hidden": 64}})
    assert cfg.model == NTMModelConfig(kind="lstm", lstm_hidden=64)
    wider = cfg.replace(model={"lstm_hidden": 128})
    assert wider.model.kind == "lstm" and wider.model.lstm_hidden == 128
    assert wider.fingerprint() != cfg.fingerprint()
    assert cfg.replace(device="cpu").fingerprint() == cfg.fingerprint()
    with pytest.raises(ConfigError, match=r"NTMModelConfig.hidden = 0 is out of range"):
        cfg.replace(model={"hidden": 0})
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) 'hiden' for NTMModelConfig"):
        NTMConfig(model={"hiden": 3})
    with pytest.raises(ConfigError, match=r"NTMConfig.model = 3 must be a NTMModelConfig"):
        NTMConfig(model=3)
    # A field added to the model config since a run was stored matches when left at its default.
    stored = cfg.to_dict()
    del stored["model"]["shifts"]
    assert same_experiment(stored, cfg) and not same_experiment(stored, cfg.replace(model={"shifts": 5}))
