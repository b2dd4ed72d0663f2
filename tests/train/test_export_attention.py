"""A small Transformer (positional encoding, encoder, mean over time) exports in every
format, each reloaded and checked against the compiled network: attention's fast path
in eval mode must not break tracing, torch.export or ONNX."""
import pytest
import torch

from studio.graph.builder import sequential
from studio.graph.compile import compile_graph, example_inputs
from studio.project.model import Project
from studio.train.export import export_model

FORMATS = ["safetensors", "pt", "torchscript", "pt2", "onnx", "python"]


def transformer_project(kind: str = "learned") -> Project:
    m, _ = sequential([("Linear", {"out_features": 8}), ("PositionalEncoding", {"kind": kind, "max_len": 12}),
                       ("TransformerEncoder", {"nhead": 2, "dim_feedforward": 16, "num_layers": 2}),
                       ("Mean", {"dims": [1]}), ("Linear", {"out_features": 3})],
                      {"kind": "sequence", "length": 10, "features": 2})
    return Project(model=m, name="tiny transformer")


@pytest.fixture(scope="module", params=["learned", "sinusoidal"])
def network(request):
    project = transformer_project(request.param)
    torch.manual_seed(0)
    return project, compile_graph(project.model).eval()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_transformer_exports_verified_in_every_format(network, fmt, tmp_path):
    project, model = network
    result = export_model(project, model, fmt, tmp_path / f"model.{fmt}")
    assert result.verified, result.message
    assert result.max_abs_diff <= 1e-4, result.message


def test_eval_output_does_not_depend_on_the_batch(network):
    """The exports take any batch size; one example alone gives what it gives in a batch."""
    project, model = network
    x = example_inputs(project.model, batch=5)[0]
    with torch.no_grad():
        torch.testing.assert_close(model(x[:1]), model(x)[:1], atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", ["learned", "sinusoidal"])
def test_python_export_imports_back_as_the_same_layers(kind, tmp_path, capsys):
    """export --format python, then import: Studio's own helper modules map back layer for layer."""
    from .test_export_roundtrip import same_network_back
    project = transformer_project(kind)
    torch.manual_seed(0)
    model = compile_graph(project.model).eval()
    same_network_back(project, model, "sequence:10,2", tmp_path, capsys)
