"""Offline datasets generated on the spot: learnable, balanced and deterministic.

Everything is drawn with vectorised numpy from a fixed seed, so the same
`samples` always gives the same examples and 2000 images take a few tens of ms.
"""
from __future__ import annotations

import numpy as np
import torch

from studio.data.common import SEED, split_and_finish
from studio.data.dataset import Dataset

SHAPE_CLASSES = ["circle", "square", "triangle", "cross"]
WAVE_CLASSES = ["sine", "square", "sawtooth", "noise"]
SHAPE_SIZE = 32
WAVE_LENGTH = 32


def _balanced_labels(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Labels 0..k-1 in equal numbers (±1), in random order."""
    return rng.permutation(np.arange(n) % k).astype(np.int64)


# --- shapes -------------------------------------------------------------------

def shape_images(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """n RGB 32×32 uint8 images (N×3×H×W) of circles, squares, triangles, crosses.

    Shapes are at least 12 px across and their colour differs from the background
    by at least 88 levels in every channel, so a small CNN separates them easily;
    position, size, colours and mild pixel noise vary so it cannot memorise."""
    rng = np.random.default_rng(seed)
    s = SHAPE_SIZE
    labels = _balanced_labels(rng, n, 4)
    radius = rng.uniform(6.0, 12.0, n).astype(np.float32)           # half the shape's extent
    cx = rng.uniform(radius + 1, s - 1 - radius).astype(np.float32)
    cy = rng.uniform(radius + 1, s - 1 - radius).astype(np.float32)
    coords = np.arange(s, dtype=np.float32) + 0.5
    dx = coords[None, None, :] - cx[:, None, None]                   # N×1×W
    dy = coords[None, :, None] - cy[:, None, None]                   # N×H×1
    r = radius[:, None, None]
    adx, ady = np.abs(dx), np.abs(dy)
    circle = dx * dx + dy * dy <= r * r
    square = (adx <= 0.85 * r) & (ady <= 0.85 * r)                   # similar area to the circle
    t = (dy + r) / (1.8 * r)                                         # 0 at the apex, 1 at the base
    triangle = (t >= 0) & (t <= 1) & (adx <= t * r)
    arm = 0.3 * r
    cross = ((adx <= arm) & (ady <= r)) | ((ady <= arm) & (adx <= r))
    masks = np.stack([circle, square, triangle, cross])              # 4×N×H×W
    mask = masks[labels, np.arange(n)]                               # N×H×W

    background = rng.integers(0, 256, (n, 3), dtype=np.int16)
    foreground = (background + 128 + rng.integers(-40, 41, (n, 3), dtype=np.int16)) % 256
    img = np.where(mask[:, None], foreground[:, :, None, None], background[:, :, None, None])
    img += rng.integers(-10, 11, img.shape, dtype=np.int16)         # int16 noise: 4× cheaper than normal()
    return np.clip(img, 0, 255).astype(np.uint8), labels


def shapes(settings) -> Dataset:
    x, y = shape_images(settings.samples)
    return split_and_finish(settings, name="Shapes", kind="image", task="classification",
                            x=torch.from_numpy(x), y=torch.from_numpy(y), classes=SHAPE_CLASSES,
                            source="generated: 32×32 circles, squares, triangles and crosses")


# --- waves --------------------------------------------------------------------

def wave_sequences(n: int, length: int = WAVE_LENGTH, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """n sequences N×T×1 float32: sine, square, sawtooth or noise, at random
    frequency (1 to 4 cycles per sequence), phase and amplitude, plus a little noise."""
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(rng, n, 4)
    cycles = rng.uniform(1.0, 4.0, (n, 1))
    phase = rng.uniform(0.0, 1.0, (n, 1))
    amplitude = rng.uniform(0.5, 1.5, (n, 1))
    frac = (np.arange(length)[None, :] / length * cycles + phase) % 1.0   # position within a cycle
    sine = np.sin(2 * np.pi * frac)
    square = np.where(frac < 0.5, 1.0, -1.0)
    saw = 2.0 * frac - 1.0
    noise = rng.normal(0.0, 0.6, (n, length))
    waves = np.stack([sine, square, saw, noise])[labels, np.arange(n)]
    x = amplitude * waves + rng.normal(0.0, 0.05, (n, length))
    return x[:, :, None].astype(np.float32), labels


def waves(settings) -> Dataset:
    x, y = wave_sequences(settings.samples)
    return split_and_finish(settings, name="Waves", kind="sequence", task="classification",
                            x=torch.from_numpy(x), y=torch.from_numpy(y), classes=WAVE_CLASSES,
                            source=f"generated: {WAVE_LENGTH}-step sine, square, sawtooth and noise signals")


# --- 2-D points, in the manner of TensorFlow Playground ------------------------
# Coordinates lie roughly in [-1, 1] so networks train without normalisation.

def spiral_points(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms of 1.75 turns each."""
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(rng, n, 2)
    t = rng.uniform(0.0, 1.0, n)
    angle = 1.75 * 2 * np.pi * t + np.pi * labels
    radius = 0.05 + 0.95 * t
    xy = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return xy + rng.normal(0.0, 0.03, xy.shape), labels


def moons_points(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (like scikit-learn's make_moons), centred."""
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(rng, n, 2)
    t = rng.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    xy = np.where(labels[:, None] == 0, upper, lower) - np.array([0.5, 0.25])
    return xy + rng.normal(0.0, 0.1, xy.shape), labels


def circles_points(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """A disc (class 0) inside a ring (class 1), with a gap between them."""
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(rng, n, 2)
    radius = np.where(labels == 0, rng.uniform(0.0, 0.5, n), rng.uniform(0.7, 1.0, n))
    angle = rng.uniform(0.0, 2 * np.pi, n)
    xy = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return xy + rng.normal(0.0, 0.03, xy.shape), labels


_POINTS = {
    "spiral": ("Spiral", spiral_points, ["arm 1", "arm 2"], "two interleaved spiral arms"),
    "moons": ("Moons", moons_points, ["upper moon", "lower moon"], "two interleaving half circles"),
    "circles": ("Circles", circles_points, ["inner", "outer"], "a disc inside a ring"),
}


def points(settings) -> Dataset:
    title, make, classes, what = _POINTS[settings.dataset]
    x, y = make(settings.samples)
    return split_and_finish(settings, name=title, kind="vector", task="classification",
                            x=torch.from_numpy(x.astype(np.float32)), y=torch.from_numpy(y),
                            classes=classes, source=f"generated: 2-D points, {what}")


# --- sine regression -----------------------------------------------------------

def sine_points(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [-3, 3] (N×1), y = sin(x) + noise (N×1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, (n, 1))
    y = np.sin(x) + rng.normal(0.0, 0.1, (n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def sine(settings) -> Dataset:
    x, y = sine_points(settings.samples)
    return split_and_finish(settings, name="Sine", kind="vector", task="regression",
                            x=torch.from_numpy(x), y=torch.from_numpy(y), classes=[],
                            source="generated: y = sin(x) + noise for x in [-3, 3]")


GENERATORS = {"shapes": shapes, "waves": waves, "spiral": points, "moons": points,
              "circles": points, "sine": sine}
