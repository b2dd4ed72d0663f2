"""MNIST and Fashion-MNIST from torchvision's raw layout (`<root>/MNIST/raw/...`).

The IDX files are parsed here with numpy (plain or .gz), so nothing but the
download itself depends on torchvision.
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from studio.data import download
from studio.data.common import Progress, data_root, offline_error, report, split_and_finish
from studio.data.dataset import DataError, Dataset
from studio.data.files import MB, open_regular, read_exactly

FILES = {"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
         "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"}

# key: (title, folder under root, mirrors, md5 of each .gz, class names); as torchvision has them
SOURCES = {
    "mnist": ("MNIST", "MNIST",
              ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
              {"train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
               "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
               "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
               "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c"},
              [str(i) for i in range(10)]),
    "fashion_mnist": ("Fashion-MNIST", "FashionMNIST",
                      ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
                      {"train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                       "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
                       "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
                       "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310"},
                      ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]),
}

# IDX type byte → big-endian numpy dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_DIMS = 8
MAX_IDX_BYTES = 1024 * MB   # MNIST's train images are 47 MB; EMNIST's largest about 700 MB


def _header(head: bytes, name: str) -> tuple[np.dtype, int]:
    """(dtype of the values, header length) from the 4-byte magic."""
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
        raise DataError(f"{name} is not an IDX file (bad header); delete it to download it again")
    if not 1 <= head[3] <= MAX_DIMS:
        raise DataError(f"{name} is not an IDX file: it claims {head[3]} dimensions")
    return np.dtype(_IDX_TYPES[head[2]]), 4 + 4 * head[3]


def _dims(head: bytes, dtype: np.dtype, name: str) -> tuple[tuple[int, ...], int]:
    dims = struct.unpack(f">{head[3]}i", head[4:])
    if any(d < 0 for d in dims):
        raise DataError(f"{name} is corrupt: its header has a negative size {dims}; delete it to download it again")
    expected = math.prod(dims) * dtype.itemsize   # Python ints: no overflow
    size = max(expected, math.prod(d for d in dims if d) * dtype.itemsize)   # (0, 2**30, 2**30) too
    if size > MAX_IDX_BYTES:
        raise DataError(f"{name} is corrupt: its header promises {size:,} bytes of data for shape {dims}, "
                        f"more than the {MAX_IDX_BYTES // MB:,} MB limit; delete it to download it again")
    return dims, expected


def parse_idx(raw: bytes, name: str) -> np.ndarray:
    """Decode an IDX file: 2 zero bytes, type byte, ndim byte, ndim big-endian
    int32 sizes, then the values, big-endian."""
    dtype, header = _header(raw[:4], name)
    if len(raw) < header:
        raise DataError(f"{name} is truncated (header cut short); delete it to download it again")
    dims, expected = _dims(raw[:header], dtype, name)
    if len(raw) - header != expected:
        raise DataError(f"{name} is truncated or corrupt: expected {expected} bytes of data for shape "
                        f"{dims}, found {len(raw) - header}; delete it to download it again")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _read_bounded(f, name: str) -> np.ndarray:
    """Header, then exactly the bytes it promises, then a check that nothing follows:
    a small .gz can never inflate to more than its header allows."""
    head = read_exactly(f, 4, name, "the IDX header")
    dtype, header = _header(head, name)
    head += read_exactly(f, header - 4, name, "the IDX header")
    dims, expected = _dims(head, dtype, name)
    body = read_exactly(f, expected, name, f"shape {dims}")
    if f.read(1):
        raise DataError(f"{name} is corrupt: it holds more data than its header's shape {dims}; "
                        "delete it to download it again")
    return np.frombuffer(body, dtype).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(folder: Path, stem: str) -> np.ndarray:
    """Read `stem` or `stem.gz` from folder (the plain file wins, as torchvision extracts it)."""
    plain, packed = folder / stem, folder / f"{stem}.gz"
    path = plain if plain.is_file() else packed
    try:
        with open_regular(path) as f:
            if path.suffix == ".gz":
                with gzip.GzipFile(fileobj=f, mode="rb") as g:
                    return _read_bounded(g, str(path))
            return _read_bounded(f, str(path))
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path} could not be read ({e}); delete it to download it again") from None


def _present(folder: Path, stem: str) -> bool:
    return (folder / stem).is_file() or (folder / f"{stem}.gz").is_file()


def find_folder(root: str, sub: str) -> Path:
    """The folder holding the IDX files: root itself, root/raw, or root/<sub>/raw."""
    base = data_root(root)
    for folder in (base, base / "raw", base / sub / "raw"):
        if _present(folder, FILES["train_x"]):
            return folder
    return base / sub / "raw"


def ensure_files(key: str, folder: Path, progress: Progress) -> None:
    title, _, mirrors, md5s, _ = SOURCES[key]
    missing = [stem for stem in FILES.values() if not _present(folder, stem)]
    if not missing:
        return
    files = [([m + stem + ".gz" for m in mirrors], stem + ".gz", md5s[stem]) for stem in missing]
    reason = download.fetch_all(files, folder, title, progress)
    still = [stem for stem in FILES.values() if not _present(folder, stem)]
    if reason is not None or still:
        raise offline_error(title, folder, ", ".join(f"{s}.gz" for s in FILES.values()),
                            f"download them from {mirrors[0]}; plain or .gz both work", reason,
                            still if len(still) < len(FILES) else None)


def _pair(folder: Path, x_stem: str, y_stem: str, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = read_idx(folder, x_stem), read_idx(folder, y_stem)
    if x.ndim != 3 or x.dtype != np.uint8:
        raise DataError(f"{folder / x_stem} does not hold uint8 images (shape {x.shape}, {x.dtype})")
    if y.dtype.kind not in "iu":
        raise DataError(f"{folder / y_stem} holds {y.dtype} labels; labels must be whole numbers")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{folder / y_stem} has {len(y)} labels for {len(x)} images in {x_stem}")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise DataError(f"{folder / y_stem} has labels outside 0..{n_classes - 1}")
    return torch.from_numpy(x[:, None].copy()), torch.from_numpy(y.astype(np.int64))


def load_mnist(settings, progress: Progress = None) -> Dataset:
    key = settings.dataset
    title, sub, _, _, classes = SOURCES[key]
    folder = find_folder(settings.root, sub)
    ensure_files(key, folder, progress)
    report(progress, 0.2, f"Reading {title}")
    x, y = _pair(folder, FILES["train_x"], FILES["train_y"], len(classes))
    test = None
    if settings.use_test_split:
        report(progress, 0.7, f"Reading {title} test set")
        test = _pair(folder, FILES["test_x"], FILES["test_y"], len(classes))
    return split_and_finish(settings, name=title, kind="image", task="classification", x=x, y=y,
                            classes=classes, source=str(folder), test=test)
