"""The chapters and their plans: one `experiments` module per chapter."""

from __future__ import annotations

from types import ModuleType

from ..act import experiments as act
from ..attention import experiments as attention
from ..ntm import experiments as ntm
from ..programmer import experiments as programmer
from ..soft_lookup import experiments as soft_lookup

# Chapter name (its notebook in book/ and its folder in data/results/) -> its experiments module.
CHAPTERS: dict[str, ModuleType] = {m.CHAPTER: m for m in (soft_lookup, ntm, attention, act, programmer)}
