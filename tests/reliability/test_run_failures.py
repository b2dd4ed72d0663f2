"""Runs that go wrong: out of memory, a checkpoint write that fails mid-run,
and a data folder that disappears while training.

Datasets are decoded into memory (uint8 tensors) before the first batch, so a
run whose data folder vanishes provably continues and finishes; this test
deletes the folder from inside the first batch to prove it."""
from __future__ import annotations

import errno
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli.main import main as cli
from studio.data.load import load_dataset
from studio.graph.builder import sequential
from studio.project.file import Project
from studio.train import resume as resume_mod
from studio.train.checkpoint import load_checkpoint
from studio.train.trainer import Trainer


def _image_folder(root, classes=("disc", "square"), per_class=12, size=12):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(root / c / f"{i}.png")
    return root


def _project(folder) -> Project:
    m, _ = sequential([("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                       ("MaxPool2d", {"kernel_size": 4}), "Flatten", ("Linear", {"out_features": 2})])
    p = Project(model=m, name="tiny")
    p.data.dataset, p.data.path, p.data.image_size = "image_folder", str(folder), 12
    p.train.batch_size, p.train.epochs, p.train.device = 4, 2, "cpu"
    return p


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


class _Remember:
    def __init__(self, on_first_batch=None):
        self.batches, self.epochs, self.on_first_batch = 0, [], on_first_batch

    def on_batch_end(self, e):
        self.batches += 1
        if self.batches == 1 and self.on_first_batch:
            self.on_first_batch()

    def on_epoch_end(self, e):
        self.epochs.append(e.epoch)


def test_a_run_continues_when_its_data_folder_vanishes(tmp_path, isolated_cache):
    folder = _image_folder(tmp_path / "data")
    project = _project(folder)
    dataset = load_dataset(project.data)
    seen = _Remember(on_first_batch=lambda: shutil.rmtree(folder))
    result = Trainer(project, dataset, out_dir=tmp_path / "run", callbacks=[seen], log_interval=0).run()
    assert not folder.exists()
    assert result.status == "finished" and seen.epochs == [1, 2]
    torch.set_num_threads(1)


def test_out_of_memory_is_reported_with_a_smaller_batch_suggested(tmp_path, isolated_cache, monkeypatch):
    project = _project(_image_folder(tmp_path / "data"))
    from studio.train import finetune  # the run's network is built there (starting_model)
    real_build = finetune.build_model

    def build_then_explode(*a, **k):
        model = real_build(*a, **k)

        def oom(_module, _inputs):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        model.register_forward_pre_hook(oom)
        return model
    monkeypatch.setattr(finetune, "build_model", build_then_explode)
    trainer = Trainer(project, load_dataset(project.data), callbacks=[])
    result = trainer.run()
    assert result.status == "failed" and trainer.error.kind == "oom"
    assert "smaller batch size" in trainer.error.message and "now 4, e.g. 2" in trainer.error.message
    # The CLI says the same in one line and exits 1 (a failed run).
    path = tmp_path / "tiny.studio.json"
    from studio.project.file import save
    save(project, path)
    assert cli(["train", str(path), "--out", str(tmp_path / "cli-run")]) == 1
    torch.set_num_threads(1)


def test_a_failing_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, isolated_cache, monkeypatch):
    project = _project(_image_folder(tmp_path / "data"))
    real_save = resume_mod.save_checkpoint
    calls = []

    def save_then_fill_the_disk(folder, *a, **k):
        calls.append(folder)
        if len(calls) == 1:
            return real_save(folder, *a, **k)
        from studio import fileio

        def full(*_a, **_k):
            raise OSError(errno.ENOSPC, "No space left on device")
        with monkeypatch.context() as disk:       # the crash happens inside the real (shared) writer
            disk.setattr(fileio.os, "fsync", full)
            return real_save(folder, *a, **k)
    monkeypatch.setattr(resume_mod, "save_checkpoint", save_then_fill_the_disk)
    out = tmp_path / "run"
    trainer = Trainer(project, load_dataset(project.data), out_dir=out, callbacks=[])
    result = trainer.run()
    assert result.status == "failed" and "No space left on device" in trainer.error.message
    tensors, scalars = load_checkpoint(out)        # epoch 1's checkpoint, whole
    assert scalars["epoch"] == 1 and any(k.startswith("model.") for k in tensors)
    assert not list(out.glob(".*.tmp"))            # no half-written temp file left behind
    torch.set_num_threads(1)

