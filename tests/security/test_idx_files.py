"""MNIST IDX files: sizes backed by the bytes in the file, decompression bounded by the header."""
import gzip
import struct

import numpy as np
import pytest

from studio.data import mnist
from studio.data.dataset import DataError
from tests.security import data_hostile as H

STEM = "train-images-idx3-ubyte"


def _header(*dims, type_byte=0x08):
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">i", d) for d in dims)


def test_negative_dimension_is_refused_through_the_cli(tmp_path):
    """Before: exit 2, but the message said `expected -784 bytes`; with a matching
    overflow it was numpy's raw `cannot reshape array …`, exit 1, no file name."""
    folder = H.write_mnist(tmp_path / "MNIST" / "raw",
                           replace={f"{STEM}.gz": gzip.compress(_header(-1, 28, 28))})
    result = H.studio_train(tmp_path, {"dataset": "mnist", "root": str(tmp_path)})
    H.assert_refused(result, str(folder / f"{STEM}.gz"), "negative size")


@pytest.mark.parametrize("dims", [(1 << 30, 1 << 30, 16), ((1 << 31) - 1,) * 3, (1 << 16, 1 << 16, 1 << 16),
                                  (1 << 30, 1 << 30, 1 << 16, 0)])
@pytest.mark.parametrize("gz", [False, True])
def test_overflowing_dimensions_are_refused_naming_the_file(tmp_path, dims, gz):
    raw = _header(*dims)   # (2**30)**2*16 wraps to 0 in int64: "0 bytes expected" matched an empty body
    name = STEM + (".gz" if gz else "")
    (tmp_path / name).write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(DataError, match=f"{name} is corrupt: its header promises .* more than"):
        mnist.read_idx(tmp_path, STEM)


def test_gzip_bomb_stops_at_what_the_header_promises(tmp_path, monkeypatch):
    """Before: a 1.5 MB .gz was inflated whole (3.5 GB peak memory, 22 s) before its size was checked."""
    (tmp_path / f"{STEM}.gz").write_bytes(H.gzip_bomb(n_claimed=20, inflated_mb=64))
    inflated = []
    real_read = gzip.GzipFile.read

    def counting_read(self, size=-1):
        out = real_read(self, size)
        inflated.append(len(out))
        return out
    monkeypatch.setattr(gzip.GzipFile, "read", counting_read)
    with pytest.raises(DataError, match="more data than its header"):
        mnist.read_idx(tmp_path, STEM)
    assert sum(inflated) <= 16 + 20 * 28 * 28 + 1   # header, the promised bytes, one byte more
    assert all(size >= 0 for size in inflated)


def test_header_promising_more_than_the_limit_reads_nothing_more(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "MAX_IDX_BYTES", 10_000)
    (tmp_path / STEM).write_bytes(_header(100, 28, 28) + b"\0" * 78400)
    with pytest.raises(DataError, match="78,400 bytes .* more than the 0 MB limit"):
        mnist.read_idx(tmp_path, STEM)


@pytest.mark.parametrize("raw, message", [
    (_header(3, 28, 28) + b"\0" * 100, "truncated"),
    (_header(1, 28, 28) + b"\0" * 785, "more data than its header"),
    (bytes([0, 0, 8, 0]), "0 dimensions"),
    (bytes([0, 0, 8, 9]) + b"\0" * 36, "9 dimensions"),
    (bytes([0, 0, 7, 1]) + b"\0" * 8, "bad header"),
    (bytes([0, 0, 8]), "truncated"),
])
def test_malformed_files_are_named(tmp_path, raw, message):
    (tmp_path / STEM).write_bytes(raw)
    with pytest.raises(DataError, match=f"{STEM}.*{message}"):
        mnist.read_idx(tmp_path, STEM)


@pytest.mark.parametrize("labels", [np.array([0.5, 1.9, 2.2], ">f4"), np.array([np.nan, 1, 2], ">f8")])
def test_float_labels_are_refused_not_truncated(tmp_path, labels):
    type_byte = 0x0D if labels.dtype.itemsize == 4 else 0x0E
    folder = H.write_mnist(tmp_path, n=3, gz=False,
                           replace={"train-labels-idx1-ubyte": H.idx(labels, type_byte)})
    with pytest.raises(DataError, match="labels must be whole numbers"):
        mnist._pair(folder, STEM, "train-labels-idx1-ubyte", 10)


def test_genuine_files_still_load(tmp_path):
    folder = H.write_mnist(tmp_path, n=5)
    x, y = mnist._pair(folder, STEM, "train-labels-idx1-ubyte", 10)
    assert tuple(x.shape) == (5, 1, 28, 28) and tuple(y.shape) == (5,)
