"""Validation: each problem is attached to the right node in words a learner
understands, and the one-click Fix makes the graph valid."""
from __future__ import annotations

from studio.graph.builder import chain, sequential
from studio.graph.compile import compile_graph
from studio.graph.model import GraphModel
from studio.graph.shapes import LOOP_MSG
from studio.graph.events import EdgeAdded, EdgeRemoved, NodeAdded, ShapesChanged
from studio.graph.fixes import InsertLayer
from studio.graph.validate import apply_fix, problems_by_node, validate

VEC = {"kind": "vector", "features": 4}


def by_node(m):
    return {k: [p.message for p in v] for k, v in problems_by_node(validate(m)).items()}


def test_valid_graph_has_no_problems():
    m, _ = sequential(["ReLU"], VEC, {"loss": "mse", "task": "regression"})
    assert validate(m) == []


def test_cycle_is_reported_on_its_members():
    m = GraphModel()
    inp, a, b = chain(m, [("Input", VEC), "ReLU", "Tanh"])
    add = m.add_node("Add")
    m.connect(b, "out", add, "in")
    m.connect(inp, "out", add, "in")
    m.disconnect(m.in_edges(a)[0].id)
    m.connect(add, "out", a, "in")  # a → b → add → a
    out = chain(m, ["Output"], start=b)[0]
    probs = by_node(m)
    for n in (a, b, add):
        assert probs[n] == [LOOP_MSG], n
    assert out not in probs  # downstream of the loop: the loop is the one problem to fix


def test_input_port_without_a_wire():
    m = GraphModel()
    chain(m, [("Input", VEC), ("Output", {"loss": "mse", "task": "regression"})])
    lone = m.add_node("Linear", nid="lonely")
    assert by_node(m)[lone] == ["Linear has no input wire: connect a layer to it"]


def test_input_port_with_too_many_wires():
    m = GraphModel()
    inp, r = chain(m, [("Input", VEC), "ReLU"])
    t = chain(m, ["Tanh"], start=inp)[0]
    lin = m.add_node("Linear")
    m.connect(r, "out", lin, "in")
    m.connect(t, "out", lin, "in")
    chain(m, ["Output"], start=lin)
    assert by_node(m)[lin] == ["Linear takes one input wire but has 2; merge them first with Add or Concat"]


def test_no_input_and_no_output_are_graph_problems():
    m = GraphModel()
    m.add_node("Output")
    assert any("no Input layer" in p for p in by_node(m)[None])
    m = GraphModel()
    m.add_node("Input", VEC)
    assert by_node(m)[None] == ["The network has no Output layer: add one to choose the loss"]


def test_unreachable_and_unused_nodes():
    m, ids = sequential(["ReLU"], VEC, {"loss": "mse", "task": "regression"})
    island = chain(m, [("Input", VEC), "Tanh"])[1]  # a second input whose result goes nowhere
    stray = m.add_node("Sigmoid")
    m.connect(stray, "out", ids[-1], "in")  # Output now has two wires
    probs = by_node(m)
    assert probs[island] == ["The result of this Tanh is not used: connect it on towards the Output"]
    assert probs[stray][0] == "Sigmoid has no input wire: connect a layer to it"
    m.remove_node(stray)
    floating = chain(m, [("Linear", {}), "ReLU"])  # no Input upstream
    m.connect(floating[0], "out", m.add_node("Tanh", nid="t2"), "in")
    probs = by_node(m)  # only the break is flagged: the Linear without a wire, not what follows it
    assert probs[floating[0]] == ["Linear has no input wire: connect a layer to it"]
    assert floating[1] not in probs and "t2" not in probs
    lone = chain(m, [("ReLU", {}), "Tanh"])  # unwired chain: its first layer is the break
    m.connect(m.add_node("Input", VEC), "out", lone[0], "in")
    m.disconnect(m.in_edges(lone[0])[0].id)
    assert lone[1] not in by_node(m)


def test_one_missing_wire_flags_only_its_two_ends():
    m, ids = sequential(["Linear", "ReLU", "Linear", "ReLU"], VEC, {"loss": "mse", "task": "regression"})
    m.disconnect(m.in_edges(ids[3])[0].id)  # the wire between the first ReLU and the second Linear
    probs = by_node(m)
    assert set(probs) == {ids[2], ids[3]}, probs


def test_kernel_larger_than_input():
    m, ids = sequential([("Conv2d", {"kernel_size": 5})], {"kind": "image", "channels": 1, "height": 3, "width": 3})
    assert by_node(m)[ids[1]] == ["Conv2d kernel 5×5 is larger than its 3×3 input"]


def test_channel_shuffle_groups_must_divide_the_channels():
    img = {"kind": "image", "channels": 6, "height": 4, "width": 4}
    m, ids = sequential([("ChannelShuffle", {"groups": 4})], img)
    assert by_node(m)[ids[1]] == ["Channel shuffle groups 4 must divide its 6 input channels "
                                  "(each group gets the same number of channels)"]
    m, ids = sequential([("ChannelShuffle", {"groups": 3})], img)
    assert ids[1] not in by_node(m) and m.shapes.out(ids[1]).dims == (6, 4, 4)
    m, ids = sequential([("ChannelShuffle", {})], VEC)
    assert by_node(m)[ids[1]][0].startswith("Channel shuffle needs an image C×H×W, got 4.")


def test_channel_chunk_needs_equal_chunks_and_an_existing_part():
    img = {"kind": "image", "channels": 6, "height": 4, "width": 4}
    m, ids = sequential([("ChannelChunk", {"chunks": 4})], img)
    assert by_node(m)[ids[1]] == ["Channel chunk: 4 chunks must divide its 6 input channels evenly"]
    m, ids = sequential([("ChannelChunk", {"chunks": 3, "part": 3})], img)
    assert by_node(m)[ids[1]] == ["Channel chunk part 3 does not exist: the 3 chunks are numbered 0 to 2"]
    m, ids = sequential([("ChannelChunk", {"chunks": 3, "part": 1})], img)
    assert ids[1] not in by_node(m) and m.shapes.out(ids[1]).dims == (2, 4, 4)


def test_add_of_unequal_shapes():
    m = GraphModel()
    inp = m.add_node("Input", {"kind": "image", "channels": 3, "height": 8, "width": 8})
    a = chain(m, [("Conv2d", {"out_channels": 64, "padding": 1})], start=inp)[0]
    b = chain(m, [("Conv2d", {"out_channels": 32, "padding": 1})], start=inp)[0]
    add = m.add_node("Add")
    m.connect(a, "out", add, "in")
    m.connect(b, "out", add, "in")
    chain(m, ["Flatten", ("Linear", {"out_features": 2}), "Output"], start=add)
    assert by_node(m) == {add: ["Add needs equal shapes, got 64×8×8 and 32×8×8"]}


def test_loss_and_task_must_agree():
    m, ids = sequential([], VEC, {"loss": "mse", "task": "classification"})
    assert by_node(m)[ids[-1]] == ["The mse loss is for regression, but the task is classification"]


def test_cross_entropy_needs_a_vector():
    m, ids = sequential([], {"kind": "image"})
    assert "Cross-entropy needs one score per class" in by_node(m)[ids[-1]][0]


def test_flatten_fix_is_offered_and_makes_the_graph_valid():
    m, ids = sequential([("Conv2d", {"out_channels": 4}), ("Linear", {"out_features": 10})])
    conv, lin = ids[1], ids[2]
    (problem,) = validate(m)
    assert problem.node == lin
    assert problem.message == "Linear needs a flat vector, got 4×30×30. Insert a Flatten before it."
    assert problem.fix == InsertLayer("Insert Flatten", "Flatten", m.in_edges(lin)[0].id)
    events = []
    m.subscribe(events.append)
    new = apply_fix(m, problem.fix)
    assert [type(e) for e in events if not isinstance(e, ShapesChanged)] == [
        EdgeRemoved, NodeAdded, EdgeAdded, EdgeAdded]
    assert m.type_of(new) == "Flatten"
    assert [e.src for e in m.in_edges(lin)] == [new] and [e.src for e in m.in_edges(new)] == [conv]
    assert validate(m) == []
    assert m.shapes.out(lin).dims == (10,)
    assert compile_graph(m) is not None


def test_image_rows_fix_for_a_recurrent_layer_on_an_image():
    m, ids = sequential([("LSTM", {"hidden_size": 8}), ("Linear", {"out_features": 10})])
    (problem,) = validate(m)
    assert problem.node == ids[1] and problem.fix.layer == "ImageRows"
    apply_fix(m, problem.fix)
    assert validate(m) == []
    assert m.shapes.out(ids[1]).dims == (8,)

