"""Small in-memory datasets and projects for the trainer tests (no data layer needed)."""
from __future__ import annotations

import math

import torch

from studio.data.dataset import Dataset
from studio.graph.builder import sequential
from studio.project.file import Project


def blobs(n: int = 256, classes: int = 3, features: int = 2, seed: int = 0) -> Dataset:
    """Well separated Gaussian blobs: a linear model learns them in a few epochs."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    angles = y.float() * (2 * math.pi / classes)
    centres = torch.stack([angles.cos(), angles.sin()], 1) * 3
    x = torch.cat([centres, torch.zeros(n, features - 2)], 1) + 0.5 * torch.randn(n, features, generator=g)
    cut = n * 3 // 4
    return Dataset("Blobs", "vector", "classification", x[:cut], y[:cut], x[cut:], y[cut:],
                   classes=[f"c{i}" for i in range(classes)])


def tiny_images(n: int = 64, classes: int = 10, size: int = 32, seed: int = 0) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    cut = n * 3 // 4
    return Dataset("Tiny", "image", "classification", x[:cut], y[:cut], x[cut:], y[cut:],
                   classes=[f"c{i}" for i in range(classes)], mean=(0.5,) * 3, std=(0.25,) * 3)


def mlp_project(classes: int = 3, **train) -> Project:
    m, _ = sequential([("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": classes})],
                      {"kind": "vector", "features": 2})
    p = Project(model=m, name="mlp")
    p.train.batch_size = 32
    p.train.epochs = 3
    for k, v in train.items():
        setattr(p.train, k, v)
    return p


def cnn_project(classes: int = 10, **train) -> Project:
    m, _ = sequential([("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                       ("MaxPool2d", {"kernel_size": 4}), "Flatten", ("Linear", {"out_features": classes})])
    p = Project(model=m, name="cnn")
    p.train.batch_size = 16
    p.train.epochs = 1
    for k, v in train.items():
        setattr(p.train, k, v)
    return p


def sine_data(n: int = 256) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, generator=g) * 6 - 3
    y = torch.sin(x)
    cut = n * 3 // 4
    return Dataset("Sine", "vector", "regression", x[:cut], y[:cut], x[cut:], y[cut:])


def sine_project(**train) -> Project:
    m, _ = sequential([("Linear", {"out_features": 32}), "Tanh", ("Linear", {"out_features": 1})],
                      {"kind": "vector", "features": 1}, {"loss": "mse", "task": "regression"})
    p = Project(model=m, name="sine")
    p.train.batch_size, p.train.epochs, p.train.lr = 32, 10, 0.01
    for k, v in train.items():
        setattr(p.train, k, v)
    return p
