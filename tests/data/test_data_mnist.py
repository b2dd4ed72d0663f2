"""MNIST / Fashion-MNIST from real IDX files (plain and gzip); offline behaviour."""
import gzip
import struct

import numpy as np
import pytest
import torch

from studio.data import download
from studio.data.dataset import DataError
from studio.data.load import load_dataset
from studio.data.mnist import parse_idx
from studio.settings import DataSettings


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(raw, n_train=12, n_test=5, gz=False):
    raw.mkdir(parents=True)
    rng = np.random.default_rng(2)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": np.arange(n_train) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": np.arange(n_test) % 10}
    for stem, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (raw / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (raw / stem).write_bytes(data)
    return arrays


@pytest.fixture
def offline(monkeypatch):
    calls = []

    def refuse(url, download_root, filename=None, md5=None):
        calls.append(url)
        raise OSError("network is unreachable")
    monkeypatch.setattr(download, "download_and_extract_archive", refuse)
    return calls


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("key,sub", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_loads_idx_files(tmp_path, offline, gz, key, sub):
    arrays = write_mnist(tmp_path / sub / "raw", gz=gz)
    d = load_dataset(DataSettings(dataset=key, root=str(tmp_path)))
    assert d.x_train.shape == (12, 1, 28, 28) and d.x_train.dtype == torch.uint8
    assert d.x_val.shape == (5, 1, 28, 28) and d.y_train.dtype == torch.int64
    assert torch.equal(d.x_train[3, 0], torch.from_numpy(arrays["train-images-idx3-ubyte"][3].astype(np.uint8)))
    assert d.y_train.tolist() == list(np.arange(12) % 10)
    assert len(d.classes) == 10 and len(d.mean) == 1 and not offline
    assert (d.classes[0] == "0") if key == "mnist" else (d.classes[-1] == "Ankle boot")


def test_root_may_be_the_raw_folder(tmp_path, offline):
    write_mnist(tmp_path / "MNIST" / "raw")
    d = load_dataset(DataSettings(dataset="mnist", root=str(tmp_path / "MNIST" / "raw"),
                                  use_test_split=False, val_split=0.25))
    assert (len(d.x_train), len(d.x_val)) == (9, 3)


def test_offline_message(tmp_path, offline):
    with pytest.raises(DataError) as e:
        load_dataset(DataSettings(dataset="fashion_mnist", root=str(tmp_path)))
    text = str(e.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in text and "Shapes" in text
    assert "train-images-idx3-ubyte" in text and len(offline) == 1  # stops at the first failure


def test_truncated_file_is_named(tmp_path, offline):
    write_mnist(tmp_path / "MNIST" / "raw")
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*truncated"):
        load_dataset(DataSettings(dataset="mnist", root=str(tmp_path)))


def test_broken_gzip_is_named(tmp_path, offline):
    write_mnist(tmp_path / "MNIST" / "raw", gz=True)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        load_dataset(DataSettings(dataset="mnist", root=str(tmp_path)))


def test_parse_idx_other_types():
    values = np.array([[1.5, -2.0], [3.0, 4.25]], dtype=">f4")
    raw = struct.pack(">BBBB", 0, 0, 0x0D, 2) + struct.pack(">2i", 2, 2) + values.tobytes()
    assert np.array_equal(parse_idx(raw, "x"), values)
    with pytest.raises(DataError, match="not an IDX"):
        parse_idx(b"PK\x03\x04", "x")
