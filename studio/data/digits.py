"""The UCI handwritten digits that scikit-learn ships with itself: 1797 grey 8×8
images of the digits 0 to 9, read from scikit-learn's installed files, so they
are offline like the generated sets but drawn by people. Small enough that an
autoencoder trains in seconds on a CPU, and varied enough that what the network
learns shows: its code groups the digits by class without seeing a label.
"""
from __future__ import annotations

import numpy as np
import torch

from studio.data.common import Progress, report, split_and_finish
from studio.data.dataset import Dataset

DIGITS_SIZE = 8
DIGITS_COUNT = 1797
DIGIT_CLASSES = [str(i) for i in range(10)]
_LEVELS = 16  # the source's pixels are ink counts 0..16


def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 images as uint8 N×1×8×8 (0..255) and their labels, in the file's order."""
    from sklearn.datasets import load_digits
    bunch = load_digits()  # a gzipped CSV inside the scikit-learn package: no download, no pickle
    images = np.rint(bunch.images * (255.0 / _LEVELS)).clip(0, 255).astype(np.uint8)
    return images[:, None], bunch.target.astype(np.int64)


def load_digits(settings, progress: Progress = None) -> Dataset:
    report(progress, 0.0, "Reading the Digits bundled with scikit-learn")
    x, y = digit_images()
    return split_and_finish(settings, name="Digits", kind="image", task="classification",
                            x=torch.from_numpy(x), y=torch.from_numpy(y), classes=DIGIT_CLASSES,
                            source="scikit-learn's copy of the UCI handwritten digits: 1797 grey 8×8 images")
