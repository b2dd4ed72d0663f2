"""A Vision Transformer drawn from the palette (patches, class token, positions, pre-norm
encoder, step 0) exports in every format, each reloaded and checked against the compiled
network, and its .py export imports back as the same layers."""
import pytest
import torch

from studio.graph.compile import compile_graph
from studio.project.model import Project
from studio.train.export import export_model
from tests.graph.test_graph_vit import tiny_vit

FORMATS = ["safetensors", "pt", "torchscript", "pt2", "onnx", "python"]


@pytest.fixture(scope="module")
def network():
    project = Project(model=tiny_vit(), name="tiny vit")
    torch.manual_seed(0)
    model = compile_graph(project.model).eval()
    with torch.no_grad():
        for p in model.parameters():  # the class token starts at zero: make it count
            p.add_(torch.randn_like(p) * 0.1)
    return project, model


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_vit_exports_verified_in_every_format(network, fmt, tmp_path):
    project, model = network
    result = export_model(project, model, fmt, tmp_path / f"model.{fmt}")
    assert result.verified, result.message
    assert result.max_abs_diff <= 1e-4, result.message


def test_python_export_imports_back_as_the_same_layers(network, tmp_path, capsys):
    from .test_export_roundtrip import same_network_back
    project, model = network
    same_network_back(project, model, "image:3,8,8", tmp_path, capsys)
