"""Validated experiment configs.

Every experiment is a frozen dataclass. Fields declare what they accept with `choice(...)` or
`bounded(...)`, and a bad value raises `ConfigError` naming the parameter and what is allowed, at
construction time, i.e. before any work starts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A parameter has a value outside what the experiment accepts."""


def choice(default, allowed, fingerprint=True):
    """A field that takes one of `allowed`."""
    return field(default=default, metadata={"choices": tuple(allowed), "fingerprint": fingerprint})


def bounded(default, lo=None, hi=None, *, lo_open=False, fingerprint=True):
    """A numeric field in [lo, hi] (or (lo, hi] with lo_open); None means unbounded."""
    return field(
        default=default,
        metadata={"range": (lo, hi), "lo_open": lo_open, "fingerprint": fingerprint},
    )


def nested(cls):
    """A field that holds another Config (e.g. the model's shape inside an experiment's config).

    It takes an instance or a dict of that class's fields; `replace` merges a dict into it."""
    return field(default_factory=cls, metadata={"nested": cls})


def _describe_range(lo, hi, lo_open):
    left = "" if lo is None else f"{lo} {'<' if lo_open else '<='} "
    right = "" if hi is None else f" <= {hi}"
    return f"{left}value{right}"


def validate_field(owner: str, f: dataclasses.Field, value: Any) -> None:
    name = f"{owner}.{f.name}"
    if "choices" in f.metadata:
        allowed = f.metadata["choices"]
        if value not in allowed:
            raise ConfigError(f"{name} = {value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}")
    if "range" in f.metadata:
        lo, hi = f.metadata["range"]
        expected = int if isinstance(f.default, int) and not isinstance(f.default, bool) else float
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} = {value!r} must be a number ({expected.__name__})")
        if expected is int and not float(value).is_integer():
            raise ConfigError(f"{name} = {value!r} must be a whole number")
        too_low = lo is not None and (value <= lo if f.metadata["lo_open"] else value < lo)
        too_high = hi is not None and value > hi
        if too_low or too_high:
            rng = _describe_range(lo, hi, f.metadata["lo_open"])
            raise ConfigError(f"{name} = {value!r} is out of range; allowed: {rng}")


@dataclass(frozen=True)
class Config:
    """Base class: validation on construction, dict round trip and a fingerprint."""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if "nested" in f.metadata:
                if isinstance(value, dict):
                    object.__setattr__(self, f.name, f.metadata["nested"].from_dict(value))
                elif not isinstance(value, f.metadata["nested"]):
                    raise ConfigError(
                        f"{type(self).__name__}.{f.name} = {value!r} must be a "
                        f"{f.metadata['nested'].__name__} or a dict of its fields"
                    )
            validate_field(type(self).__name__, f, getattr(self, f.name))

    @classmethod
    def _check_known(cls, names) -> None:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(names) - known)
        if unknown:
            raise ConfigError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for {cls.__name__}; "
                f"allowed: {', '.join(sorted(known))}"
            )

    @classmethod
    def from_dict(cls, values: dict) -> "Config":
        cls._check_known(values)
        return cls(**values)  # nested dicts are turned into their Config in __post_init__

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> "Config":
        self._check_known(changes)
        for f in dataclasses.fields(self):
            if "nested" in f.metadata and isinstance(changes.get(f.name), dict):
                changes[f.name] = getattr(self, f.name).replace(**changes[f.name])
        return dataclasses.replace(self, **changes)

    def numbers(self) -> dict:
        """The fields that change the numbers (not e.g. the device or checkpoint cadence), nested
        configs as dicts of theirs."""
        out = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("fingerprint", True):
                value = getattr(self, f.name)
                out[f.name] = value.numbers() if isinstance(value, Config) else value
        return out

    def fingerprint(self) -> str:
        """Hash of everything that changes the numbers."""
        blob = json.dumps({"class": type(self).__name__, **self.numbers()}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TrainConfig(Config):
    """What every experiment's training loop needs. Experiments subclass it and add their own."""

    seed: int = bounded(0, 0, 2**31 - 1)
    # The seed of the training batches, where a controlled run gives one seed's starting weights another
    # seed's batches; -1: `seed` (the weights, and any sampling in the model, always follow `seed`).
    data_seed: int = bounded(-1, -1, 2**31 - 1)
    steps: int = bounded(1000, 1)
    batch_size: int = bounded(32, 1, 65536)
    lr: float = bounded(1e-3, 0.0, 1.0, lo_open=True)
    optimizer: str = choice("adam", ("adam", "rmsprop"))
    momentum: float = bounded(0.9, 0.0, 1.0)  # only RMSProp uses it (NTM paper: 0.9)
    clip: float = bounded(10.0, 0.0)  # max gradient norm (or component, see clip_mode); 0 turns clipping off
    # "norm": rescale the whole gradient to norm <= clip; "value": clip every component to [-clip, clip]
    # (the NTM paper's sec. 4.6, and pytorch-ntm's).
    clip_mode: str = choice("norm", ("norm", "value"))
    warmdown: float = bounded(0.0, 0.0, 1.0)  # last fraction of steps over which lr falls linearly to 0
    grad_noise: float = bounded(0.0, 0.0)  # eta: Gaussian gradient noise of variance eta / (1 + t)^0.55
    log_every: int = bounded(50, 1)
    checkpoint_every: int = bounded(500, 1, fingerprint=False)
    # Not in the fingerprint: a stored run is the same experiment on any device and is reused there.
    # Retrained on a GPU it gives other numbers (the data come from the device's random generator, whose
    # streams are not the CPU's, and its kernels round differently): another sample, as another seed is.
    device: str = choice("auto", ("auto", "cpu", "cuda", "mps"), fingerprint=False)
    # torch.compile the model's per-time-step cell, where the experiment has one (`compile_model`).
    # The same computation up to float rounding, so not part of the fingerprint; the provenance keeps it.
    compile: bool = choice(False, (False, True), fingerprint=False)
    # Store the trained weights (model.pt). A network too big for the repository (a stored run stays
    # under 5 MB) keeps instead what its chapter measures on it, the experiment's `evaluations(model,
    # cfg)` (evaluations.json); its Run then has no model, whether trained now or loaded.
    keep_weights: bool = choice(True, (True, False), fingerprint=False)
    # Model selection: the stored model is the one at the log step with the highest value of this
    # evaluation metric (one of the experiment's `selectable`), not the last; "" keeps the last.
    select_on: str = ""


SCALES = ("smoke", "full")


def check_scale(scale: str) -> str:
    """The one check of a `scale` (chapters, plans, the command line) before doing anything."""
    if scale not in SCALES:
        raise ConfigError(f"scale = {scale!r} is not allowed; choose one of 'smoke', 'full'")
    return scale


def check_seeds(seeds) -> int | None:
    """`seeds`: how many seeds every headline run of a chapter gets; None for the chapter's default."""
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        raise ConfigError(f"seeds = {seeds!r} is out of range; allowed: a whole number >= 1, or None")
    return seeds
