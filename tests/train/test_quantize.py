"""`--quantize int8`: a smaller ONNX file, measured against fp32 on the validation set."""
import json

import pytest
import torch

from studio.cli.main import main
from studio.data.load import load_dataset
from studio.graph.builder import sequential
from studio.project.file import save
from studio.project.model import Project
from studio.settings import DataSettings
from studio.train.exported import open_onnx
from studio.train.quantize import MAX_DROP, QuantReport, quantize_onnx
from studio.train.trainer import Trainer

from .helpers import blobs, mlp_project


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    settings = DataSettings(dataset="shapes", samples=320)
    data = load_dataset(settings)
    # A CNN with weights large enough that int8 storage shows.
    m, _ = sequential([("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}), "ReLU",
                       ("MaxPool2d", {"kernel_size": 2}), "Flatten", ("Linear", {"out_features": 4})])
    project = Project(model=m, data=settings, name="cnn16")
    project.train.batch_size, project.train.epochs, project.train.lr = 16, 2, 0.01
    assert Trainer(project, data, out_dir=folder).run().status == "finished"
    save(project, folder / "p.studio.json")
    return project, data, folder


def test_cli_quantize_writes_int8_and_the_measured_table(run, tmp_path, capsys):
    project, data, folder = run
    code = main(["export", str(folder / "p.studio.json"), "--weights", str(folder / "best.safetensors"),
                 "--format", "onnx", "-o", str(tmp_path / "m.onnx"), "--quantize", "int8"])
    out = capsys.readouterr().out
    assert code == 0, out
    for row in ("size", "latency batch 1", "latency batch 32", f"val accuracy ({len(data.x_val)})", "static (QDQ"):
        assert row in out
    report = json.loads((folder / "exports" / "quantize.json").read_text())["files"][str(tmp_path / "m.int8.onnx")]
    assert report["int8_bytes"] < 0.5 * report["fp32_bytes"]
    assert report["examples"] == len(data.x_val) and report["top1_agreement"] >= 0.9
    assert set(report["latency_ms"]["int8"]) == {"1", "32"}
    # The int8 file is a Studio export too: labels and input spec inside, runs on [0,1] images.
    run_q, info = open_onnx(tmp_path / "m.int8.onnx")
    assert info.classes == ["circle", "square", "triangle", "cross"] and info.input == "float"
    acc = float((run_q(data.x_val.float() / 255).argmax(1) == data.y_val).float().mean())
    assert acc == pytest.approx(report["int8_accuracy"])


def test_networks_without_convolutions_get_dynamic_quantization(tmp_path):
    from studio.train.export import export_model
    data = blobs()
    project = mlp_project()
    t = Trainer(project, data)
    assert t.run().status == "finished"
    meta = {"classes": data.classes, "task": "classification"}
    result = export_model(project, t.model, "onnx", tmp_path / "m.onnx", meta=meta)
    report = quantize_onnx(result.path, data, result.info, repeats=3)
    assert report.method.startswith("dynamic")
    assert report.top1_agreement >= 0.9 and report.examples == len(data.x_val)


def test_an_accuracy_loss_over_one_point_is_said_clearly():
    base = dict(fp32_file="a.onnx", int8_file="a.int8.onnx", method="static", fp32_bytes=4000,
                int8_bytes=1000, threads=1, latency_ms={"fp32": {"1": 1.0, "32": 9.0}, "int8": {"1": 0.5, "32": 4.0}},
                top1_agreement=0.9, examples=100)
    lossy = QuantReport(fp32_accuracy=0.80, int8_accuracy=0.80 - (MAX_DROP + 0.5) / 100, **base)
    fine = QuantReport(fp32_accuracy=0.80, int8_accuracy=0.80 - (MAX_DROP - 0.5) / 100, **base)
    assert lossy.too_lossy and "WARNING" in lossy.table() and "1.50 points" in lossy.table()
    assert not fine.too_lossy and "WARNING" not in fine.table()
    assert lossy.to_dict()["too_lossy"] is True
    torch.testing.assert_close(lossy.drop_points, MAX_DROP + 0.5)
