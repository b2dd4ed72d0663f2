"""Blocks in the core: shapes from the body, repeat, grouping and its exact undo,
the project file (format 2, with format 1 files read unchanged) and compilation."""
from __future__ import annotations

import json

import pytest
import torch

from studio.graph.blocks import can_repeat, group, node_path, resolve, undo_group, undo_ungroup, ungroup, walk
from studio.graph.builder import sequential
from studio.graph.compile import compile_graph
from studio.graph.events import BodyChanged, ShapesChanged
from studio.graph.model import MAX_DEPTH, GraphError, GraphModel
from studio.graph.validate import validate
from studio.project.file import ProjectError, dumps, loads
from studio.project.model import Project

CONV = ("Conv2d", {"out_channels": 8, "padding": 1})


def residual_net():
    """Input 3×16×16 → conv → [conv-relu-conv + skip] → flatten → linear → Output."""
    m, ids = sequential([CONV, CONV, "ReLU", CONV, "Flatten", ("Linear", {"out_features": 4})],
                        input_params={"height": 16, "width": 16})
    return m, ids


def make_residual_block(m, ids):
    rec = group(m, ids[2:5], "Res")
    body = m.body(rec.block)
    add = body.add_node("Add")
    last = body.in_edges("output")[0]
    body.disconnect(last.id)
    body.connect(last.src, "out", add, "in")
    body.connect("input", "out", add, "in")
    body.connect(add, "out", "output", "in")
    return rec.block


def test_block_shape_and_counts_come_from_its_body():
    m, ids = residual_net()
    weights_before = m.shapes.totals()[0]
    blk = make_residual_block(m, ids)
    assert m.shapes.out(blk).dims == (8, 16, 16)
    assert m.shapes.totals()[0] == weights_before
    assert m.shapes.info[blk].weights == 2 * (8 * 8 * 9 + 8)
    assert validate(m) == []


def test_an_edit_inside_re_infers_outside_and_is_announced():
    m, ids = residual_net()
    blk = make_residual_block(m, ids)
    seen = []
    m.subscribe(seen.append)
    body = m.body(blk)
    conv = [n for n in body.nodes() if body.type_of(n) == "Conv2d"][1]
    body.set_param(conv, "out_channels", 5)
    assert any(isinstance(e, BodyChanged) and e.id == blk for e in seen)
    assert any(isinstance(e, ShapesChanged) and blk in e.ids for e in seen)
    err = m.shapes.error(blk)
    assert err.startswith("Inside Res, ") and "5×16×16" in err
    assert any(p.node == blk for p in validate(m))
    body.set_param(conv, "out_channels", 8)
    assert m.shapes.error(blk) is None and validate(m) == []


def test_repeat_needs_equal_shapes_and_multiplies_counts():
    m, ids = residual_net()
    blk = make_residual_block(m, ids)
    w = m.shapes.info[blk].weights
    assert can_repeat(m, blk)
    m.set_param(blk, "repeat", 3)
    assert m.shapes.info[blk].weights == 3 * w
    gm = compile_graph(m)
    assert sum(p.numel() for p in gm.parameters()) == m.shapes.totals()[0]
    assert len(getattr(gm, blk)) == 3  # nn.Sequential of three copies, each with its own weights
    # A block that changes the shape cannot repeat.
    m2, ids2 = residual_net()
    rec = group(m2, [ids2[1]], "Stem")  # 3 -> 8 channels
    assert not can_repeat(m2, rec.block)
    m2.set_param(rec.block, "repeat", 2)
    assert "Repeat ×2" in m2.shapes.error(rec.block)


def test_compiled_block_equals_the_flat_network():
    m, ids = residual_net()
    flat = compile_graph(m)
    rec = group(m, ids[2:5], "Res")
    nested = compile_graph(m)
    state = {k.replace(f"{rec.block}.", ""): v for k, v in nested.state_dict().items()}
    flat.load_state_dict(state)
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(flat(x), nested(x))
    assert type(getattr(nested, rec.block)).__name__ == "Res"


def test_group_undo_redo_and_ungroup_restore_exact_graphs():
    m, ids = residual_net()
    before = m.snapshot()
    rec = group(m, ids[2:5], "Res")
    grouped = m.snapshot()
    body = rec.body
    undo_group(m, rec)
    assert m.snapshot() == before
    rec2 = group(m, ids[2:5], "Res", nid=rec.block, body=body)
    assert m.snapshot() == grouped and m.body(rec.block) is body  # same inside object across redo
    u = ungroup(m, rec.block)
    assert set(ids) <= set(m.nodes()) and validate(m) == []
    undo_ungroup(m, u)
    assert m.snapshot() == grouped
    del rec2


def test_group_keeps_merge_order():
    m = GraphModel()
    i = m.add_node("Input", {"kind": "vector", "features": 4})
    a = m.add_node("Linear", {"out_features": 3})
    b = m.add_node("Linear", {"out_features": 5})
    cat = m.add_node("Concat", {})
    o = m.add_node("Output", {"loss": "mse", "task": "regression"})
    for n in (a, b):
        m.connect(i, "out", n, "in")
    m.connect(b, "out", cat, "in")
    m.connect(a, "out", cat, "in")
    m.connect(cat, "out", o, "in")
    rec = group(m, [a, b, cat], "Two")
    body = m.body(rec.block)
    assert [e.src for e in body.in_edges(cat)] == [b, a]
    x = torch.randn(2, 4)
    gm = compile_graph(m)
    inner = getattr(gm, rec.block)
    want = torch.cat([getattr(inner, b)(x), getattr(inner, a)(x)], 1)
    assert torch.equal(gm(x), want)


@pytest.mark.parametrize("pick,words", [
    (lambda ids: [ids[0], ids[1]], "input and output stay outside"),
    (lambda ids: [ids[-2]], "Nothing leaves"),
    (lambda ids: [], "Select the layers"),
])
def test_group_refusals_say_why(pick, words):
    m, ids = residual_net()
    if pick(ids) == [ids[-2]]:
        m.disconnect(m.out_edges(ids[-2])[0].id)
    before = m.snapshot()
    with pytest.raises(GraphError, match=words):
        group(m, pick(ids))
    assert m.snapshot() == before


def test_two_inputs_are_refused():
    m = GraphModel()
    i = m.add_node("Input", {"kind": "vector", "features": 4})
    a = m.add_node("Linear", {"out_features": 4})
    b = m.add_node("Linear", {"out_features": 4})
    add = m.add_node("Add", {})
    m.connect(i, "out", a, "in")
    m.connect(i, "out", b, "in")
    m.connect(a, "out", add, "in")
    m.connect(b, "out", add, "in")
    with pytest.raises(GraphError, match="takes one input.*2 layers"):
        group(m, [add])


def test_ends_stay_where_they_belong():
    m = GraphModel()
    with pytest.raises(GraphError, match="only inside a block"):
        m.add_node("BlockInput")
    body = GraphModel(body=True)
    with pytest.raises(GraphError, match="not inside a block"):
        body.add_node("Input")


def test_project_file_round_trip_with_nested_blocks():
    m, ids = residual_net()
    blk = make_residual_block(m, ids)
    inner = m.body(blk)
    conv = [n for n in inner.nodes() if inner.type_of(n) == "Conv2d"][0]
    group(inner, [conv], "Inner")
    text = dumps(Project(model=m, name="nested"))
    doc = json.loads(text)
    assert doc["version"] == 2
    back = loads(text).model
    assert back.snapshot() == m.snapshot()
    assert [p for _, _, p in walk(back)] == [p for _, _, p in walk(m)]
    assert back.shapes.totals() == m.shapes.totals()


def test_format_1_files_open_unchanged():
    m, _ = residual_net()
    doc = json.loads(dumps(Project(model=m)))
    doc["version"] = 1
    back = loads(json.dumps(doc)).model
    assert back.snapshot() == m.snapshot()


@pytest.mark.parametrize("mutate,words", [
    (lambda n: n.__setitem__("body", {"nodes": [], "edges": []}) if n["type"] == "Conv2d" else None,
     "only a Block has"),
    (lambda n: n["body"]["nodes"].append({"id": "x", "type": "Input"}) if n["type"] == "Block" else None,
     "not inside a block"),
    (lambda n: n.__setitem__("body", []) if n["type"] == "Block" else None, '"body" must be an object'),
])
def test_bad_bodies_are_refused_with_the_place(mutate, words):
    m, ids = residual_net()
    make_residual_block(m, ids)
    doc = json.loads(dumps(Project(model=m)))
    for n in doc["graph"]["nodes"]:
        mutate(n)
    with pytest.raises(ProjectError, match=words):
        loads(json.dumps(doc))


def test_nesting_is_limited():
    body = GraphModel(body=True)
    for _ in range(MAX_DEPTH + 2):
        outer = GraphModel(body=True)
        try:
            outer.add_node("Block", body=body)
        except GraphError as e:
            assert "nested at most" in str(e)
            break
        body = outer
    else:
        pytest.fail("nesting was not limited")


def test_frozen_inside_a_block_and_block_lr_multiplier():
    from studio.train.finetune import param_groups
    m, ids = residual_net()
    blk = make_residual_block(m, ids)
    body = m.body(blk)
    convs = [n for n in body.nodes() if body.type_of(n) == "Conv2d"]
    body.set_param(convs[0], "frozen", True)
    m.set_param(blk, "lr_mult", 0.5)
    gm = compile_graph(m)
    groups, frozen = param_groups(gm, m, 1e-3)
    inner = getattr(gm, blk)
    assert frozen == [getattr(inner, convs[0])]
    half = next(g for g in groups if g["lr_mult"] == 0.5)
    assert {id(p) for p in half["params"]} == {id(p) for p in getattr(inner, convs[1]).parameters()}


def test_grouping_past_the_nesting_limit_is_refused_before_any_change():
    m, ids = sequential(["ReLU"])
    blk = group(m, [ids[1]]).block
    for _ in range(MAX_DEPTH - 2):  # the deepest allowed: MAX_DEPTH levels, the top one included
        blk = group(m, [blk]).block
    before = m.snapshot()
    from studio.graph.blocks import group_problem
    assert "nested at most" in group_problem(m, [blk])
    with pytest.raises(GraphError, match="nested at most"):
        group(m, [blk])
    assert m.snapshot() == before


def test_regroup_after_undo_gives_the_same_wires_when_insertion_order_changed():
    """A wire reconnected by an undo keeps its rank but moves to the end of the insertion
    order; grouping picks wires by rank, so a redo rebuilds exactly the same graph."""
    m = GraphModel()
    i = m.add_node("Input", {"kind": "vector", "features": 4})
    a = m.add_node("Linear", {"out_features": 4})
    b = m.add_node("Linear", {"out_features": 4})
    c = m.add_node("Linear", {"out_features": 4})
    add = m.add_node("Add", {})
    o = m.add_node("Output", {"loss": "mse", "task": "regression"})
    m.connect(i, "out", a, "in")
    first = m.connect(a, "out", b, "in")
    m.connect(a, "out", c, "in")
    m.connect(b, "out", add, "in")
    m.connect(c, "out", add, "in")
    m.connect(add, "out", o, "in")
    m.disconnect(first)
    m.connect(a, "out", b, "in", eid=first)  # as an undo puts it back: same id and rank, last inserted
    rec = group(m, [b, c, add], "Pair")
    grouped = m.snapshot()
    undo_group(m, rec)
    group(m, [b, c, add], "Pair", nid=rec.block, body=rec.body)
    assert m.snapshot() == grouped


def test_node_paths_name_layers_inside_blocks_from_the_top():
    m, ids = residual_net()
    blk = make_residual_block(m, ids)
    inner = m.body(blk)
    conv = [n for n in inner.nodes() if inner.type_of(n) == "Conv2d"][0]
    deeper = group(inner, [conv], "Inner").block
    innermost = m.body(blk).body(deeper)
    leaf = [n for n in innermost.nodes() if innermost.type_of(n) == "Conv2d"][0]
    assert node_path(m, ids[0]) == ids[0]  # a top-level node's path is its id
    assert node_path(innermost, leaf) == f"{blk}/{deeper}/{leaf}"
    assert resolve(m, f"{blk}/{deeper}/{leaf}") == (innermost, leaf)
    assert resolve(m, ids[0]) == (m, ids[0])
    for bad in (f"{blk}/nothing", f"{ids[0]}/{leaf}", f"nothing/{leaf}", "", f"{blk}//{leaf}"):
        assert resolve(m, bad) is None, bad
