"""CIFAR-10 from real-format pickles; safe unpickling; offline behaviour."""
import os
import pickle

import numpy as np
import pytest
import torch

from studio.data import download
from studio.data import safe_pickle
from studio.data.cifar import safe_load
from studio.data.dataset import DataError
from studio.data.load import load_dataset
from studio.settings import DataSettings

NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]


def write_batches(folder, per_batch=6, protocol=2):
    """A tiny cifar-10-batches-py folder in the real format (dicts with bytes keys)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"batch_label": name.encode(), b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in rng.integers(0, 10, per_batch)],
                 b"filenames": [b"x.png"] * per_batch}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": NAMES, b"num_vis": 3072}, protocol=protocol))
    return folder


@pytest.fixture
def offline(monkeypatch):
    calls = []

    def refuse(url, download_root, filename=None, md5=None):
        calls.append(url)
        raise OSError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(download, "download_and_extract_archive", refuse)
    return calls


@pytest.mark.parametrize("protocol", [2, 5])
def test_loads_tiny_cifar_with_test_split(tmp_path, offline, protocol):
    write_batches(tmp_path / "cifar-10-batches-py", protocol=protocol)
    d = load_dataset(DataSettings(dataset="cifar10", root=str(tmp_path)))
    assert d.x_train.shape == (30, 3, 32, 32) and d.x_train.dtype == torch.uint8
    assert d.x_val.shape == (6, 3, 32, 32) and d.y_train.dtype == torch.int64
    assert d.classes[0] == "airplane" and len(d.classes) == 10 and len(d.mean) == 3
    assert not offline  # files present: no download attempted
    raw = pickle.loads((tmp_path / "cifar-10-batches-py" / "data_batch_1").read_bytes())
    assert torch.equal(d.x_train[0], torch.from_numpy(raw[b"data"][0].reshape(3, 32, 32)))


def test_root_may_be_the_batches_folder_itself(tmp_path, offline):
    folder = write_batches(tmp_path / "cifar-10-batches-py")
    d = load_dataset(DataSettings(dataset="cifar10", root=str(folder), use_test_split=False, val_split=0.2))
    assert (len(d.x_train), len(d.x_val)) == (24, 6)


def test_limit_reads_only_the_batches_it_needs(tmp_path, offline):
    write_batches(tmp_path / "cifar-10-batches-py")
    (tmp_path / "cifar-10-batches-py" / "data_batch_5").write_bytes(b"garbage")
    d = load_dataset(DataSettings(dataset="cifar10", root=str(tmp_path), limit=10))
    assert len(d.x_train) == 10 and len(d.x_val) == 6


def test_offline_message_names_the_folder_and_shapes(tmp_path, offline):
    with pytest.raises(DataError) as e:
        load_dataset(DataSettings(dataset="cifar10", root=str(tmp_path / "data")))
    text = str(e.value)
    assert str((tmp_path / "data" / "cifar-10-batches-py").resolve()) in text
    assert "Shapes" in text and "data_batch_1" in text and offline


def test_corrupt_batch_is_named(tmp_path, offline):
    folder = write_batches(tmp_path / "cifar-10-batches-py")
    (folder / "data_batch_3").write_bytes(b"\x80\x02}q\x00(X\x04\x00")  # truncated pickle
    with pytest.raises(DataError, match="data_batch_3"):
        load_dataset(DataSettings(dataset="cifar10", root=str(tmp_path)))


def test_wrong_shape_batch_is_named(tmp_path, offline):
    folder = write_batches(tmp_path / "cifar-10-batches-py")
    bad = {b"data": np.zeros((4, 100), np.uint8), b"labels": [0, 1, 2, 3]}
    (folder / "test_batch").write_bytes(pickle.dumps(bad, protocol=2))
    with pytest.raises(DataError, match="test_batch"):
        load_dataset(DataSettings(dataset="cifar10", root=str(tmp_path)))


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _WritesFile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("payload", [_RunsShell, _WritesFile])
def test_malicious_pickle_never_runs(tmp_path, offline, payload):
    marker = tmp_path / "pwned"
    folder = write_batches(tmp_path / "cifar-10-batches-py")
    evil = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [payload(marker)]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(DataError, match="data_batch_1.*refused"):
        load_dataset(DataSettings(dataset="cifar10", root=str(tmp_path)))
    assert not marker.exists()
    with pytest.raises(DataError):
        safe_load(folder / "data_batch_1")
    assert not marker.exists()


def test_safe_pickle_still_reads_arrays_and_containers():
    value = {"a": [1, 2.5, "x", b"y", (3, None, True)], "arr": np.arange(6, dtype=np.int32).reshape(2, 3)}
    for protocol in (2, 4, 5):
        out = safe_pickle.loads(pickle.dumps(value, protocol=protocol))
        assert out["a"] == value["a"] and np.array_equal(out["arr"], value["arr"])
        with pytest.raises(DataError, match="float array"):
            safe_pickle.loads(pickle.dumps({"f": np.zeros(2, np.float32)}, protocol=protocol))
