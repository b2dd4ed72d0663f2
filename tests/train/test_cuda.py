"""Training on a CUDA GPU: fp32, bf16 and fp16 (with a gradient scaler), the data kept
on the device, channels_last for convolutions, blocks, and a GPU checkpoint that
resumes on the CPU. Skipped where there is no GPU; bench/gpu_check.sh runs these
together with the GPU throughput bench on a machine that has one."""
from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import torch

from studio.data.load import load_dataset
from studio.graph.blocks import group
from studio.project.file import load
from studio.train.trainer import Trainer
from tests.train.helpers import cnn_project, tiny_images

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _shapes_run(precision: str, seed: int, epochs: int = 3, tmp=None):
    project = load(SAMPLES / "shapes_cnn.studio.json")
    project.train.epochs, project.train.precision, project.train.seed = epochs, precision, seed
    project.train.device = "cuda"
    data = load_dataset(project.data)
    trainer = Trainer(project, data, device="cuda", out_dir=tmp)
    return trainer, trainer.run()


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_shapes_learns_on_the_gpu_at_every_precision(precision):
    accs = []
    for seed in (0, 1, 2):
        trainer, result = _shapes_run(precision, seed)
        assert result.status == "finished", result.message
        assert trainer.device.type == "cuda" and trainer.precision == precision
        accs.append(result.val_metric)
    assert statistics.median(accs) > 0.6, accs  # 4 classes: chance is 0.25


def test_data_lives_on_the_gpu_and_convolutions_use_channels_last():
    trainer = Trainer(cnn_project(), tiny_images(), device="cuda")
    assert trainer.run().status == "finished"
    assert trainer.train_batches.x.device.type == "cuda"
    assert trainer.channels_last
    x, _ = next(iter(trainer.train_batches))
    assert x.device.type == "cuda" and x.is_contiguous(memory_format=torch.channels_last)


def test_a_block_structured_network_trains_on_the_gpu():
    project = cnn_project()
    m = project.model
    convs = [n for n in m.nodes() if m.type_of(n) in ("Conv2d", "ReLU")]
    group(m, convs, "Features")
    trainer = Trainer(project, tiny_images(), device="cuda")
    assert trainer.run().status == "finished"


def test_a_gpu_checkpoint_resumes_on_the_cpu(tmp_path):
    project = cnn_project(epochs=2)
    data = tiny_images()
    Trainer(project, data, device="cuda", out_dir=tmp_path).run()
    project.train.epochs = 3
    trainer = Trainer(project, data, device="cpu", out_dir=tmp_path, resume=True)
    result = trainer.run()
    assert result.status == "finished" and result.epochs == 3
    assert next(trainer.model.parameters()).device.type == "cpu"
