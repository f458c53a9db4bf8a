"""Small generated stand-ins for the real data sets, shared by several test files."""

import numpy as np
from scipy.io import wavfile


def make_fake(root, digits=(0, 1), speakers=("george", "theo"), takes=2):
    rec = root / "recordings"
    rec.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for d in digits:
        for s in speakers:
            for t in range(takes):
                wavfile.write(rec / f"{d}_{s}_{t}.wav", 8000, (rng.standard_normal(400) * 3000).astype(np.int16))
    return root
