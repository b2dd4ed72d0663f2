"""A network with blocks (a residual block repeated inside a repeated stage) exports in
every format, each reloaded and checked against the compiled network."""
import ast

import pytest
import torch
from safetensors.torch import load_file

from studio.graph.blocks import group
from studio.graph.builder import sequential
from studio.graph.compile import compile_graph, example_inputs
from studio.project.model import Project
from studio.train.export import export_model
from tests.graph.block_specimens import residual

FORMATS = ["safetensors", "pt", "torchscript", "pt2", "onnx", "python"]
CONV = ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1})


def block_project(stage_name: str = "Stage") -> Project:
    """conv → Stage ×2 [Res ×2 [conv-bn-relu + skip], conv] → pool → flatten → linear."""
    m, ids = sequential([CONV, CONV, ("BatchNorm2d", {}), "ReLU", CONV, ("MaxPool2d", {"kernel_size": 4}),
                         "Flatten", ("Linear", {"out_features": 5})], {"height": 8, "width": 8})
    res = group(m, ids[2:5], "Res").block
    residual(m.body(res))
    m.set_param(res, "repeat", 2)
    stage = group(m, [res, ids[5]], stage_name).block
    m.set_param(stage, "repeat", 2)
    return Project(model=m, name="blocks")


def trained(project: Project) -> torch.nn.Module:
    """The compiled network with random weights and BatchNorm statistics off their defaults."""
    torch.manual_seed(0)
    gm = compile_graph(project.model)
    gm.train()
    gm(*example_inputs(project.model, batch=4))
    return gm.eval()


@pytest.fixture(scope="module")
def blocks():
    project = block_project()
    return project, trained(project)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_network_with_blocks_exports_verified_in_every_format(blocks, fmt, tmp_path):
    project, model = blocks
    result = export_model(project, model, fmt, tmp_path / f"model.{fmt}")
    assert result.verified, result.message
    if fmt != "onnx":
        assert result.max_abs_diff <= 1e-4


def test_the_python_export_has_block_classes_and_loads_the_weights_strictly(blocks, tmp_path):
    project, model = blocks
    result = export_model(project, model, "python", tmp_path / "net.py")
    assert result.verified, result.message
    source = (tmp_path / "net.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert [n.name for n in tree.body if isinstance(n, ast.ClassDef)] == [
        "Add", "Res", "Stage", "StudioNetwork", "StudioModel"]
    assert "nn.Sequential(*[Res() for _ in range(2)])" in source
    state = load_file(str(tmp_path / "net.safetensors"))
    assert set(state) == set(model.state_dict())  # the compiled network's keys: block2.1.block1.0.conv2d2...
    assert any(k.startswith("block2.1.block1.0.") for k in state)


@pytest.mark.parametrize("name", ["StudioModel", "StudioNetwork", "CLASSES", "MEAN", "Add"])
def test_a_block_named_like_what_the_export_adds_is_renamed(name, tmp_path):
    project = block_project(stage_name=name)
    result = export_model(project, trained(project), "python", tmp_path / "net.py")
    assert result.verified, result.message
    source = (tmp_path / "net.py").read_text(encoding="utf-8")
    assert f"class {name}_2(nn.Module)" in source
