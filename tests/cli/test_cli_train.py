"""`studio train` end to end through the real CIFAR-10 loader, then export and predict."""
import json
import pickle

import numpy as np
import pytest

from studio.cli.main import main

SAMPLE = "samples/cifar10_cnn.studio.json"


def write_cifar(folder, n_train=64, n_test=32):
    """A tiny cifar-10-batches-py in the real pickle format."""
    base = folder / "cifar-10-batches-py"
    base.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        n = n_test if name == "test_batch" else n_train // 5
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in rng.integers(0, 10, n)]}
        with open(base / name, "wb") as f:
            pickle.dump(batch, f)
    meta = {b"label_names": [c.encode() for c in ("airplane", "automobile", "bird", "cat", "deer",
                                                  "dog", "frog", "horse", "ship", "truck")]}
    with open(base / "batches.meta", "wb") as f:
        pickle.dump(meta, f)
    return base


@pytest.fixture(scope="module")
def cifar_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_cifar(root)
    out = tmp_path_factory.mktemp("run")
    return root, out


def test_train_cifar_sample_prints_json_last(cifar_run, capsys):
    root, out = cifar_run
    code = main(["train", SAMPLE, "--data-dir", str(root), "--epochs", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("epoch 1/1")
    summary = json.loads(lines[-1])
    assert summary["epochs"] == 1 and summary["best_epoch"] == 1
    assert 0.0 <= summary["val_accuracy"] <= 1.0 and summary["images_per_second"] > 0
    for key in ("best", "last", "metrics", "project", "meta", "checkpoint"):
        assert (out / summary["paths"][key].split("/")[-1]).exists()
    assert len((out / "metrics.csv").read_text().splitlines()) == 2
    meta = json.loads((out / "meta.json").read_text())
    assert meta["classes"][3] == "cat" and len(meta["mean"]) == 3


def test_data_dir_may_point_at_the_batches_folder(cifar_run, tmp_path, capsys):
    root, _ = cifar_run
    code = main(["train", SAMPLE, "--data-dir", str(root / "cifar-10-batches-py"), "--epochs", "1",
                 "--batch-size", "64", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err


def test_resume_continues_with_more_epochs(cifar_run, capsys):
    root, out = cifar_run
    code = main(["train", SAMPLE, "--data-dir", str(root), "--epochs", "2", "--out", str(out), "--resume"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[0].startswith("epoch 2/2")  # epoch 1 came from the checkpoint
    assert json.loads(lines[-1])["epochs"] == 2
    assert len((out / "metrics.csv").read_text().splitlines()) == 3


def test_predict_prints_top3(cifar_run, tmp_path, capsys):
    from PIL import Image
    _, out = cifar_run
    img = tmp_path / "frog.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (50, 40, 3), dtype=np.uint8)).save(img)
    code = main(["predict", SAMPLE, "--weights", str(out / "best.safetensors"), str(img)])
    text = capsys.readouterr().out.strip()
    assert code == 0
    assert text.startswith(f"{img}: ") and text.count("%") == 3


def test_bad_usage_exits_2(tmp_path, capsys):
    assert main(["train", SAMPLE, "--epochs", "-1"]) == 2
    assert main(["train", str(tmp_path / "missing.studio.json")]) == 2
    assert main(["train", SAMPLE, "--data-dir", str(tmp_path), "--out", str(tmp_path / "r"),
                 "--resume"]) == 2
    capsys.readouterr()
