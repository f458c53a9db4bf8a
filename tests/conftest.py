import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _cpu_threads():
    # Two cores here and in CI: keep torch from oversubscribing when pytest runs subprocesses.
    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    yield
