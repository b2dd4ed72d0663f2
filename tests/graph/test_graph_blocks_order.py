"""A merge layer's wire order survives grouping, ungrouping and the project file
when its first wire comes from outside the grouped layers (as in DenseNet's
torch.cat([block input, new features]))."""
from __future__ import annotations

import torch

from studio.graph.blocks import group, ungroup
from studio.graph.compile import compile_graph
from studio.graph.model import GraphModel
from studio.project.file import dumps, loads
from studio.project.model import Project


def _net():
    m = GraphModel()
    i = m.add_node("Input", {"kind": "vector", "features": 4}, nid="x")
    pre = m.add_node("Linear", {"out_features": 6}, nid="pre")
    a = m.add_node("Linear", {"out_features": 3}, nid="a")
    cat = m.add_node("Concat", {}, nid="cat")
    o = m.add_node("Output", {"loss": "mse", "task": "regression"}, nid="out")
    m.connect(i, "out", pre, "in")
    m.connect(pre, "out", a, "in")
    m.connect(pre, "out", cat, "in")  # first: the block's input
    m.connect(a, "out", cat, "in")
    m.connect(cat, "out", o, "in")
    return m


def _want(gm, x, inner=None):
    mod = getattr(gm, inner) if inner else gm
    h = gm.pre(x)
    return torch.cat([h, mod.a(h)], 1)


def test_outside_wire_first_stays_first():
    m = _net()
    x = torch.randn(2, 4)
    rec = group(m, ["a", "cat"], "Dense")
    body = m.body(rec.block)
    assert [e.src for e in body.in_edges("cat")] == ["input", "a"]
    gm = compile_graph(m)
    assert torch.equal(gm(x), _want(gm, x, rec.block))
    again = loads(dumps(Project(model=m))).model  # the file lists wires in their merge order
    assert [e.src for e in again.body(rec.block).in_edges("cat")] == ["input", "a"]
    ungroup(m, rec.block)
    assert [e.src for e in m.in_edges("cat")] == ["pre", "a"]
    gm = compile_graph(m)
    assert torch.equal(gm(x), _want(gm, x))
