"""Generated datasets: shapes, dtypes, balance, determinism, speed and learnability."""

import numpy as np
import pytest
import torch

from studio.data.load import describe_datasets, load_dataset, preview
from studio.data.synthetic import shape_images
from studio.settings import DATASETS, DataSettings

EXPECT = {  # key: (kind, task, sample shape, classes)
    "shapes": ("image", "classification", (3, 32, 32), 4),
    "waves": ("sequence", "classification", (32, 1), 4),
    "spiral": ("vector", "classification", (2,), 2),
    "moons": ("vector", "classification", (2,), 2),
    "circles": ("vector", "classification", (2,), 2),
    "sine": ("vector", "regression", (1,), 0),
}


@pytest.mark.parametrize("key", sorted(EXPECT))
def test_generated_dataset_shapes_dtypes_and_balance(key):
    kind, task, shape, n_classes = EXPECT[key]
    d = load_dataset(DataSettings(dataset=key, samples=400, val_split=0.25))
    assert (d.kind, d.task, d.sample_shape, len(d.classes)) == (kind, task, shape, n_classes)
    assert len(d.x_train) == 300 and len(d.x_val) == 100
    assert d.x_train.dtype == (torch.uint8 if kind == "image" else torch.float32)
    if task == "classification":
        assert d.y_train.dtype == torch.int64
        counts = torch.bincount(torch.cat([d.y_train, d.y_val]), minlength=n_classes)
        assert counts.tolist() == [400 // n_classes] * n_classes
    else:
        assert d.y_train.dtype == torch.float32 and d.y_train.shape == (300, 1)
        assert d.num_outputs == 1
    if kind == "image":
        assert len(d.mean) == 3 and all(0.2 < m < 0.8 for m in d.mean)
        assert all(0.1 < s < 0.5 for s in d.std)
    else:
        assert torch.isfinite(d.x_train).all() and d.mean is None


@pytest.mark.parametrize("key", sorted(EXPECT))
def test_generated_dataset_is_deterministic(key):
    a = load_dataset(DataSettings(dataset=key, samples=200))
    b = load_dataset(DataSettings(dataset=key, samples=200))
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)


def test_limit_takes_first_examples_before_the_split():
    d = load_dataset(DataSettings(dataset="moons", samples=1000, limit=100, val_split=0.2))
    assert (len(d.x_train), len(d.x_val)) == (80, 20)


def test_shapes_are_distinct():
    # Generation speed is a benchmark matter, not a test's: shared machines vary.
    x, y = shape_images(2000)
    # Every image has a clearly visible shape: many pixels far from the background colour.
    corner = x[:, :, 0, 0].astype(int)
    far = (np.abs(x.astype(int) - corner[:, :, None, None]) > 60).all(axis=1).sum(axis=(1, 2))
    assert far.min() > 40


def test_preview_gives_images_and_labels():
    d = load_dataset(DataSettings(dataset="shapes", samples=40))
    items = preview(d, 16)
    assert len(items) == 16
    image, label = items[0]
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8 and label in d.classes
    assert preview(load_dataset(DataSettings(dataset="sine", samples=40)), 4)[0][0] is None


def test_describe_lists_every_dataset():
    rows = describe_datasets()
    assert [r[0] for r in rows] == list(DATASETS) or sorted(r[0] for r in rows) == sorted(DATASETS)
    assert all(isinstance(r[3], bool) and isinstance(r[4], bool) for r in rows)
    assert {r[0] for r in rows if r[3]} == {"image_folder", "csv"}


@pytest.mark.parametrize("key", ["moons", "circles", "spiral"])
def test_points_are_learnable_by_a_small_mlp(key):
    d = load_dataset(DataSettings(dataset=key, samples=1000))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32),
                              torch.nn.Tanh(), torch.nn.Linear(32, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(400):  # full batch: 900 points
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(d.x_train), d.y_train).backward()
        opt.step()
    accuracy = (net(d.x_val).argmax(1) == d.y_val).float().mean().item()
    assert accuracy > 0.9, accuracy


def test_unknown_dataset_and_unreadable_file_are_data_errors(tmp_path):
    from studio.data.dataset import DataError
    with pytest.raises(DataError, match="Unknown dataset"):
        load_dataset(DataSettings(dataset="imagenet"))
    locked = tmp_path / "locked.csv"
    locked.mkdir()   # a folder where a file is expected
    with pytest.raises(DataError, match="not a file"):
        load_dataset(DataSettings(dataset="csv", path=str(locked)))


def test_progress_reports_the_result():
    seen = []
    load_dataset(DataSettings(dataset="spiral", samples=100), progress=lambda f, m: seen.append((f, m)))
    assert seen[-1][0] == 1.0 and "90 training and 10 validation" in seen[-1][1]


def test_every_dataset_kind_names_a_loader_that_exists():
    import importlib

    from studio.settings import DATASET_KINDS
    for kind in DATASET_KINDS:
        module, func = kind.loader.split(":")
        assert callable(getattr(importlib.import_module(f"studio.data.{module}"), func)), kind
