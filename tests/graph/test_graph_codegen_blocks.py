"""The .py export of a graph with blocks: a class per distinct block body (nested ones
classes of classes), repeats an nn.Sequential of copies, and exactly the compiled
module's state_dict keys, so the same weights load strictly and give the same outputs."""
from __future__ import annotations

import ast

import pytest
import torch
from torch import nn

from studio.graph.codegen import generate
from studio.graph.compile import compile_graph, example_inputs
from tests.graph.block_specimens import (IMG, all_block_specimens, blocked, nested, residual, residual_x3,
                                         shared_names)

SPECIMENS = all_block_specimens()


def load(source: str) -> dict:
    """The generated module's namespace (source made by generate, proven by its check_source)."""
    ns: dict = {}
    exec(compile(source, "<generated>", "exec"), ns)  # noqa: S102 - made here, from a test graph
    return ns


def classes(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]


@pytest.mark.parametrize("label,m", SPECIMENS, ids=[s[0] for s in SPECIMENS])
def test_generated_state_dict_is_the_compiled_one_and_outputs_match(label, m):
    torch.manual_seed(0)
    gm = compile_graph(m).eval()
    net = load(generate(m))["StudioModel"]()
    want = {k: tuple(v.shape) for k, v in gm.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == want
    net.load_state_dict(gm.state_dict(), strict=True)
    x = example_inputs(m, batch=3)
    with torch.no_grad():
        assert torch.allclose(net.eval()(*x), gm(*x), atol=1e-6)


def test_identical_blocks_share_a_class_and_different_ones_are_numbered():
    src = generate(shared_names())
    assert classes(src) == ["Unit", "Unit_2", "StudioModel"]
    ns = load(src)
    net = ns["StudioModel"]()
    assert [type(getattr(net, b)).__name__ for b in ("block1", "block2", "block3")] == ["Unit", "Unit", "Unit_2"]
    # A class whose name is not the block's says the block's name, for an import to read back.
    assert "block_name" not in vars(ns["Unit"]) and ns["Unit_2"].block_name == "Unit"


def test_a_repeated_block_is_a_sequential_of_its_class():
    m = residual_x3()
    src = generate(m)
    assert "nn.Sequential(*[Basic_Block() for _ in range(3)])" in src
    (blk,) = [n for n in m.nodes() if m.type_of(n) == "Block"]
    seq = getattr(load(src)["StudioModel"](), blk)
    assert isinstance(seq, nn.Sequential) and [type(c).__name__ for c in seq] == ["Basic_Block"] * 3
    assert seq[0].conv2d2.weight is not seq[1].conv2d2.weight  # each copy its own weights


def test_nested_blocks_are_classes_of_classes_defined_inner_first():
    src = generate(nested())
    assert classes(src) == ["Add", "Mean", "Res", "Stage", "StudioModel"]
    net = load(src)["StudioModel"]()
    keys = list(net.state_dict())
    assert "block2.1.block1.0.conv2d2.weight" in keys  # stage copy 1, residual copy 0


@pytest.mark.parametrize("name,cls", [
    ("Basic Block", "Basic_Block"), ("layer1.0", "layer1_0"), ("1st", "Block_1st"), ("", "Block"),
    ("StudioModel", "StudioModel_2"), ("Add", "Add_2"), ("float", "float_block"), ("range", "range_block"),
    ("nn", "nn_block"), ("NAME", "NAME_block"), ("class", "class_block"), ("super", "super_block"),
])
def test_block_names_become_safe_distinct_class_names(name, cls):
    """Names that would shadow what the generated code uses (builtins, torch's nn, the
    network class, a helper class) get another class name; the network still runs."""
    m, blk = blocked(IMG, [("Conv2d", {"out_channels": 3, "padding": 1})], name)
    residual(m.body(blk))  # uses the helper class Add
    src = generate(m)
    assert cls in classes(src)
    ns = load(src)
    assert getattr(ns[cls], "block_name", cls) == name
    gm = compile_graph(m).eval()
    net = ns["StudioModel"]()
    net.load_state_dict(gm.state_dict(), strict=True)
    x = example_inputs(m)
    with torch.no_grad():
        assert torch.allclose(net.eval()(*x), gm(*x), atol=1e-6)


def test_the_export_reserves_the_names_it_appends():
    m, _ = blocked(IMG, [("Conv2d", {"out_channels": 3, "padding": 1})], "CLASSES")
    src = generate(m, class_name="StudioNetwork", load_class="StudioModel",
                   reserved=("StudioModel", "CLASSES", "MEAN"))
    assert "CLASSES" not in classes(src) and "CLASSES_2" in classes(src)


def test_a_body_layer_called_block_name_keeps_its_place():
    """The class attribute is left out rather than shadow a layer of that id."""
    m, blk = blocked(IMG, [], "Odd name")
    body = m.body(blk)
    (wire,) = body.edges()
    body.disconnect(wire.id)
    conv = body.add_node("Conv2d", {"out_channels": 3, "padding": 1}, nid="block_name")
    body.connect("input", "out", conv, "in")
    body.connect(conv, "out", "output", "in")
    src = generate(m)
    ns = load(src)
    assert "block_name" not in vars(ns["Odd_name"])
    net = ns["StudioModel"]()
    gm = compile_graph(m).eval()
    net.load_state_dict(gm.state_dict(), strict=True)
    x = example_inputs(m)
    with torch.no_grad():
        assert torch.allclose(net.eval()(*x), gm(*x), atol=1e-6)
