"""scikit-learn's bundled handwritten digits (1,797 images of 8 x 8 pixels, shipped with the package),
split once into train and test images by a fixed permutation."""

from __future__ import annotations

from functools import lru_cache

import torch


@lru_cache(maxsize=2)
def digit_images(test_share: float):
    """(train images, train labels, test images, test labels): images N x 8 x 8 scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    d = load_digits()
    images = torch.tensor(d.images, dtype=torch.float32) / 16.0
    labels = torch.tensor(d.target)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    n_test = int(len(labels) * test_share)
    test, train = order[:n_test], order[n_test:]
    return images[train], labels[train], images[test], labels[test]
