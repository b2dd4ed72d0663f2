"""CIFAR-10 from the standard `cifar-10-batches-py/` folder (downloaded when missing).

The batch files are Python pickles. A pickle can run any code while loading,
and numpy's own array pickles trust their state, so they are decoded by
safe_pickle, which builds only plain data and integer arrays from bytes in the
file: a planted payload or a forged array raises DataError instead of running.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from studio.data import download, safe_pickle
from studio.data.common import Progress, offline_error, data_root, report, split_and_finish
from studio.data.dataset import DataError, Dataset
from studio.data.files import MB, read_regular

BASE_FOLDER = "cifar-10-batches-py"
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
MAX_FILE_BYTES = 512 * MB   # a CIFAR-10 batch is 31 MB, CIFAR-100's train file 158 MB
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def safe_load(path: Path):
    """Decode `path` with safe_pickle (plain data only); any failure is a DataError naming the file."""
    try:
        raw = read_regular(path, MAX_FILE_BYTES)
        return safe_pickle.loads(raw)
    except DataError as e:
        if str(path) in str(e):
            raise
        raise DataError(f"{path} is not a valid CIFAR-10 file: {e}; delete it to download it again") from None
    except MemoryError:
        raise DataError(f"Not enough memory to read {path}") from None


def _field(batch, name: str, path: Path):
    if isinstance(batch, dict):
        for key in (name, name.encode()):   # real files have bytes keys; accept str too
            if key in batch:
                return batch[key]
    raise DataError(f"{path} is not a CIFAR-10 batch file: it has no {name!r} entry")


def _labels(labels, path: Path) -> np.ndarray:
    """Labels as int64: a list of ints or an integer array; floats and bools are refused, not truncated."""
    if isinstance(labels, np.ndarray):
        if labels.dtype.kind not in "iu" or labels.ndim != 1:
            raise DataError(f"{path} is corrupt: its labels are {labels.dtype} of shape {labels.shape}, "
                            "not a list of whole numbers")
        return labels.astype(np.int64)
    if not isinstance(labels, list):
        raise DataError(f"{path} is corrupt: its labels are {type(labels).__name__}, not a list of whole numbers")
    bad = next((i for i, v in enumerate(labels) if type(v) is not int or not -2**63 <= v < 2**63), None)
    if bad is not None:
        raise DataError(f"{path} is corrupt: its labels must be whole numbers, found {str(labels[bad])[:40]!r}")
    return np.array(labels, dtype=np.int64)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file → uint8 N×3×32×32 images and int64 labels, validated.
    Every image and label is backed by bytes in the file (safe_pickle checks array sizes)."""
    batch = safe_load(path)
    data, labels = _field(batch, "data", path), _field(batch, "labels", path)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shape = getattr(data, "shape", type(data).__name__)
        raise DataError(f"{path} is corrupt: expected uint8 images of 3072 values each, got {shape}")
    y = _labels(labels, path)
    if len(y) != len(data) or (len(y) and (y.min() < 0 or y.max() > 9)):
        raise DataError(f"{path} is corrupt: {len(y)} labels for {len(data)} images, "
                        "or labels outside 0..9")
    return data.reshape(-1, 3, 32, 32), y


def read_classes(path: Path) -> list[str]:
    if not path.exists():
        return list(CLASSES)
    names = _field(safe_load(path), "label_names", path)
    if not isinstance(names, list) or not all(isinstance(n, (bytes, str)) for n in names):
        raise DataError(f"{path} is corrupt: label_names must be a list of names")
    out = [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]
    if len(out) != 10:
        raise DataError(f"{path} is corrupt: expected 10 class names, got {len(out)}")
    return out


def find_folder(root: str) -> Path:
    """The batches folder: `root` itself if it holds batch files or is named
    cifar-10-batches-py, else root/cifar-10-batches-py (torchvision's layout)."""
    base = data_root(root)
    if base.name == BASE_FOLDER or (base / TRAIN_FILES[0]).exists() or (base / TEST_FILE).exists():
        return base
    return base / BASE_FOLDER


def _missing(folder: Path) -> list[str]:
    return [name for name in TRAIN_FILES + [TEST_FILE] if not (folder / name).is_file()]


def ensure_files(folder: Path, progress: Progress) -> None:
    """Download and extract the archive if any batch file is missing."""
    if not _missing(folder):
        return
    if folder.name == BASE_FOLDER:   # the archive extracts to exactly this folder
        reason = download.fetch_all([([URL], ARCHIVE, ARCHIVE_MD5)], folder.parent, "CIFAR-10", progress)
    else:                            # a folder of the user's that holds only some batches
        reason = "not tried: the folder has some batch files but not all"
    if reason is not None or _missing(folder):
        missing = _missing(folder)
        raise offline_error("CIFAR-10", folder, "data_batch_1 … data_batch_5, test_batch and batches.meta",
                            f"download {URL} and extract it in {folder.resolve().parent}", reason,
                            missing if len(missing) < 6 else None)


def load_cifar10(settings, progress: Progress = None) -> Dataset:
    folder = find_folder(settings.root)
    ensure_files(folder, progress)
    classes = read_classes(folder / META_FILE)
    parts, count = [], 0
    for i, name in enumerate(TRAIN_FILES):
        if settings.limit and count >= settings.limit:
            break   # a quick try with limit=1000 reads one 30 MB batch, not five
        report(progress, i / (len(TRAIN_FILES) + 1), f"Reading CIFAR-10 {name}")
        parts.append(read_batch(folder / name))
        count += len(parts[-1][1])
    x = torch.from_numpy(np.concatenate([p[0] for p in parts]))
    y = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    test = None
    if settings.use_test_split:
        report(progress, len(TRAIN_FILES) / (len(TRAIN_FILES) + 1), f"Reading CIFAR-10 {TEST_FILE}")
        xt, yt = read_batch(folder / TEST_FILE)
        test = (torch.from_numpy(xt), torch.from_numpy(yt))
    return split_and_finish(settings, name="CIFAR-10", kind="image", task="classification", x=x, y=y,
                            classes=classes, source=str(folder), test=test)
