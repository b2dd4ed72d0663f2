"""Hangs: only regular files are read, every read is bounded, folder loops end.

Each case runs `studio train` in a child process under a timeout, so a
regression fails the test instead of hanging the suite.
"""
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.data import files
from studio.data.dataset import DataError
from studio.data.folder import scan
from tests.security import data_hostile as H

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, /proc and /dev/zero are POSIX")
TIMEOUT = 90


def _image_folder(root: Path, per_class: int = 3) -> Path:
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(np.full((8, 8, 3), 30 * i, np.uint8)).save(root / name / f"{i}.png")
    return root


@pytest.mark.timeout(60)
def test_symlink_loops_end_and_each_folder_is_read_once(tmp_path):
    """Before: two links to `..` made the walk follow 2**40 paths (killed after 30 s)."""
    root = _image_folder(tmp_path / "images")
    for name in ("a", "b", "c"):
        os.symlink("..", root / "cats" / name)            # loops back to the dataset root
        os.symlink(".", root / "dogs" / name)             # loops onto itself
    classes, found = scan(root)
    assert classes == ["cats", "dogs"]
    per_class = [sum(1 for _, c in found if c == k) for k in range(2)]
    assert per_class == [6, 3]   # cats reaches dogs once through its link to the root; no image twice


def test_fifo_and_device_named_like_images_are_skipped_without_blocking(tmp_path):
    """Before: a FIFO named x.png blocked `studio train` forever."""
    root = _image_folder(tmp_path / "images")
    os.mkfifo(root / "cats" / "x.png")
    os.symlink("/dev/zero", root / "dogs" / "z.png")
    os.symlink(root / "missing.png", root / "dogs" / "dangling.png")
    result = H.studio_train(tmp_path, {"dataset": "image_folder", "path": str(root), "image_size": 8},
                            timeout=TIMEOUT)
    assert result is not None, "studio train blocked on a FIFO or /dev/zero"
    assert "Skipped 3 unreadable images" in result.stderr and "Traceback" not in result.stderr


def test_proc_as_image_folder_is_refused(tmp_path):
    """Before: /proc as the image folder walked /proc/<pid>/root into the whole file system (killed after 30 s)."""
    if not Path("/proc/self").exists():
        pytest.skip("no /proc")
    H.assert_refused(H.studio_train(tmp_path, {"dataset": "image_folder", "path": "/proc"}, timeout=TIMEOUT),
                     "/proc is a system folder")


def test_special_files_as_dataset_files_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "table.csv")
    H.assert_refused(H.studio_train(tmp_path, {"dataset": "csv", "path": str(tmp_path / "table.csv")},
                                    timeout=TIMEOUT), "table.csv")
    batches = H.write_cifar(tmp_path / "cifar" / "cifar-10-batches-py")
    (batches / "batches.meta").unlink()
    os.mkfifo(batches / "batches.meta")
    H.assert_refused(H.studio_train(tmp_path, {"dataset": "cifar10", "root": str(batches)}, timeout=TIMEOUT),
                     "batches.meta", "named pipe")


def test_fifo_as_data_folder_is_refused(tmp_path):
    from studio.data.load import load_dataset
    from studio.settings import DataSettings
    os.mkfifo(tmp_path / "root")
    for dataset in ("cifar10", "mnist"):
        with pytest.raises(DataError, match="is not a folder"):
            load_dataset(DataSettings(dataset=dataset, root=str(tmp_path / "root")))


def test_open_regular_refuses_every_special_file_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "named pipe"), ("/dev/zero", "device"), (tmp_path, "folder")):
        with pytest.raises(DataError, match=kind):
            files.read_regular(path, 1024)
    if Path("/proc/self/status").exists():
        with pytest.raises(DataError, match="system file"):
            files.read_regular("/proc/self/status", 1024)


def test_every_read_is_bounded(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"\0" * 5000)
    assert len(files.read_regular(big, 5000)) == 5000
    with pytest.raises(DataError, match="larger than"):
        files.read_regular(big, 4999)
    sparse = tmp_path / "sparse"
    with open(sparse, "wb") as f:
        f.truncate(1 << 40)   # 1 TB that takes no disk: refused from its size, nothing read
    with pytest.raises(DataError, match="larger than"):
        files.read_regular(sparse, 1 << 20)


def test_cifar_batch_in_place_of_a_fifo_is_read_from_a_regular_file_only(tmp_path):
    path = tmp_path / "data_batch_1"
    os.mkfifo(path)
    with pytest.raises(DataError, match="data_batch_1 is a named pipe"):
        from studio.data.cifar import read_batch
        read_batch(path)
    path.unlink()
    path.write_bytes(pickle.dumps(H.batch(2), protocol=2))
    from studio.data.cifar import read_batch
    assert read_batch(path)[0].shape == (2, 3, 32, 32)


def test_fifo_as_idx_file_is_refused(tmp_path):
    from studio.data import mnist
    os.mkfifo(tmp_path / "train-images-idx3-ubyte.gz")
    with pytest.raises(DataError, match="named pipe"):
        mnist.read_idx(tmp_path, "train-images-idx3-ubyte")
