"""Exports round-trip in every format; weights load whole or not at all."""
import pytest
import torch
from safetensors.torch import save_file

from studio.cli.main import main
from studio.graph.compile import compile_graph
from studio.project.file import save
from studio.train.export import export_model
from studio.train.weights import WeightsError, load_weights

from .helpers import cnn_project

FORMATS = ["safetensors", "pt", "torchscript", "pt2", "onnx", "python"]


@pytest.fixture(scope="module")
def trained():
    project = cnn_project()
    torch.manual_seed(0)
    return project, compile_graph(project.model)


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_round_trip(trained, fmt, tmp_path):
    project, model = trained
    result = export_model(project, model, fmt, tmp_path / f"model.{fmt}")
    assert result.verified, result.message
    assert (tmp_path / result.path.split("/")[-1]).exists()
    if fmt != "onnx":
        assert result.max_abs_diff <= 1e-4
    if fmt == "python":
        source = (tmp_path / "model.py").read_text()
        assert "class StudioModel(StudioNetwork)" in source and "model.safetensors" in source
        assert (tmp_path / "model.safetensors").exists()


def test_cli_export_from_a_weights_file(trained, tmp_path, capsys):
    project, model = trained
    save_file(model.state_dict(), str(tmp_path / "w.safetensors"))
    save(project, tmp_path / "p.studio.json")
    code = main(["export", str(tmp_path / "p.studio.json"), "--weights", str(tmp_path / "w.safetensors"),
                 "--format", "python", "-o", str(tmp_path / "net.py")])
    out = capsys.readouterr().out
    assert code == 0 and "verified" in out and (tmp_path / "net.safetensors").exists()


def test_mismatched_weights_are_reported_and_nothing_loads(trained, tmp_path):
    project, model = trained
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["linear1.weight"] = torch.zeros(3, 256)   # wrong shape
    del state["conv2d1.bias"]                        # missing
    state["extra.weight"] = torch.zeros(2)           # unexpected
    torch.save(state, tmp_path / "bad.pt")
    fresh = compile_graph(project.model)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    with pytest.raises(WeightsError) as info:
        load_weights(fresh, tmp_path / "bad.pt")
    text = str(info.value)
    assert "linear1.weight is 3×256 in the file but 10×256 in the network" in text
    assert "missing: conv2d1.bias" in text and "unexpected: extra.weight" in text
    assert all(torch.equal(before[k], v) for k, v in fresh.state_dict().items())


def test_pickled_objects_are_refused(tmp_path):
    import os
    import pickle
    # A reference to a function: harmless here, but torch.load(weights_only=True) must refuse it.
    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"w": os.getcwd}, protocol=2))
    with pytest.raises(WeightsError):
        load_weights(torch.nn.Linear(2, 2), tmp_path / "evil.pt")


def test_checkpoint_file_loads_as_weights(tmp_path):
    from studio.train.trainer import Trainer

    from .helpers import tiny_images
    project = cnn_project()
    t = Trainer(project, tiny_images(), out_dir=tmp_path)
    t.run()
    fresh = compile_graph(project.model)
    load_weights(fresh, tmp_path / "checkpoint.safetensors")
    for k, v in t.model.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v)
