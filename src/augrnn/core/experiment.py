"""What an experiment is, and what a chapter's plan lists.

An experiment plugs a task and a model into `augrnn.core.train.fit`. A plan (`plan(scale, seeds)` in
each augmentation's `experiments.py`) lists every run a chapter needs as `Planned` entries: the
experiment, its config and the run's name, under which its results are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

import torch

from .config import TrainConfig

C = TypeVar("C", bound=TrainConfig, contravariant=True)


@runtime_checkable
class Experiment(Protocol[C]):
    """The interface `fit` trains. Data for a step must depend only on (cfg.seed, step), through `g`."""

    def build_model(self, cfg: C) -> torch.nn.Module: ...

    def batch(self, cfg: C, step: int, g: torch.Generator, device: torch.device) -> Any: ...

    def loss(self, model: torch.nn.Module, batch: Any, cfg: C) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(loss to minimise, {name: scalar tensor}); the metrics stay on the device."""
        ...


@runtime_checkable
class Evaluated(Protocol[C]):
    """Optional: held-out numbers at every log step (called under torch.no_grad, model in eval mode)."""

    def evaluate(self, model: torch.nn.Module, cfg: C, device: torch.device) -> dict[str, float]: ...


@runtime_checkable
class Compiled(Protocol):
    """Optional: compile the model's per-time-step cell in place (`fit` calls it when cfg.compile)."""

    def compile_model(self, model: torch.nn.Module) -> None: ...


@dataclass(frozen=True)
class Planned:
    """One run of a chapter: `key` is how the chapter refers to it, `name` its folder under
    data/results/<chapter>/ (full scale) or _build/runs/<chapter>/ (smoke)."""

    chapter: str
    name: str
    key: tuple
    experiment: Experiment
    config: TrainConfig
