"""Small graphs with blocks: single, repeated, nested, empty, and blocks sharing a
name with the same or a different inside (one generated class, or two)."""
from __future__ import annotations

from studio.graph.blocks import group
from studio.graph.builder import sequential
from studio.graph.model import GraphModel

IMG = {"kind": "image", "channels": 3, "height": 8, "width": 8}
SEQ = {"kind": "sequence", "length": 5, "features": 6}
VEC = {"kind": "vector", "features": 12}
MSE = {"loss": "mse", "task": "regression"}
CONV4 = ("Conv2d", {"out_channels": 4, "padding": 1})


def blocked(inp: dict, layers: list, name: str, repeat: int = 1) -> tuple[GraphModel, str]:
    """Input → Block(layers) → Output (no layers: a block that passes its input on)."""
    m, ids = sequential(layers, inp, MSE)
    if layers:
        blk = group(m, ids[1:-1], name).block
    else:
        (wire,) = m.edges()
        m.disconnect(wire.id)
        blk = m.add_node("Block", {"name": name})
        m.connect(ids[0], "out", blk, "in")
        m.connect(blk, "out", ids[-1], "in")
    if repeat > 1:
        m.set_param(blk, "repeat", repeat)
    return m, blk


def residual(body: GraphModel) -> None:
    """Add the body's input to what reaches its output (a skip connection)."""
    add = body.add_node("Add")
    (last,) = body.in_edges("output")
    body.disconnect(last.id)
    body.connect(last.src, "out", add, "in")
    body.connect("input", "out", add, "in")
    body.connect(add, "out", "output", "in")


def residual_x3() -> GraphModel:
    m, ids = sequential([CONV4, ("Conv2d", {"out_channels": 4, "padding": 1}), "ReLU",
                         ("BatchNorm2d", {}), "Flatten"], IMG, MSE)
    blk = group(m, ids[2:5], "Basic Block").block
    residual(m.body(blk))
    m.set_param(blk, "repeat", 3)
    return m


def nested() -> GraphModel:
    """A stage (×2) holding a residual block (×2) and a convolution."""
    m, ids = sequential([CONV4, CONV4, "ReLU", CONV4, ("Mean", {})], IMG, MSE)
    inner = group(m, ids[2:4], "Res").block
    residual(m.body(inner))
    m.set_param(inner, "repeat", 2)
    outer = group(m, [inner, ids[4]], "Stage").block
    m.set_param(outer, "repeat", 2)
    return m


def body_of(layers: list) -> GraphModel:
    """A block's inside: BlockInput → layers (ids layer0, layer1, ...) → BlockOutput."""
    body = GraphModel(body=True)
    prev = body.add_node("BlockInput", nid="input")
    for i, (type_, params) in enumerate(layers):
        nid = body.add_node(type_, params, nid=f"layer{i}")
        body.connect(prev, "out", nid, "in")
        prev = nid
    body.connect(prev, "out", body.add_node("BlockOutput", nid="output"), "in")
    return body


def shared_names() -> GraphModel:
    """Three blocks named 'Unit': the first two alike (one class), the third different."""
    unit = [("Linear", {"out_features": 12}), ("ReLU", {})]
    other = [("Linear", {"out_features": 12}), ("Tanh", {})]
    m, ids = sequential([], VEC, MSE)
    m.disconnect(m.edges()[0].id)
    prev = ids[0]
    for layers in (unit, unit, other):
        blk = m.add_node("Block", {"name": "Unit"}, body=body_of(layers))
        m.connect(prev, "out", blk, "in")
        prev = blk
    m.connect(prev, "out", ids[-1], "in")
    return m


def cnblock(channels: int = 3, init: float = 0.5) -> GraphModel:
    """ConvNeXt's block: depthwise conv, channels last for LayerNorm and two per-position
    Linears, back to channels first, layer scale, stochastic depth, plus the input."""
    m, ids = sequential([("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1, "groups": channels}),
                         ("Permute", {"dims": [0, 2, 3, 1]}), ("LayerNorm", {"eps": 1e-6}),
                         ("Linear", {"out_features": 4 * channels, "per_position": True}), "GELU",
                         ("Linear", {"out_features": channels, "per_position": True}),
                         ("Permute", {"dims": [0, 3, 1, 2]}), ("LayerScale", {"init": init}),
                         ("StochasticDepth", {"p": 0.2})], {**IMG, "channels": channels}, MSE)
    residual(m.body(group(m, ids[1:-1], "CNBlock").block))
    return m


def all_block_specimens() -> list[tuple[str, GraphModel]]:
    return [
        ("block_conv_relu", blocked(IMG, [CONV4, "ReLU"], "Stem")[0]),
        ("block_residual_x3", residual_x3()),
        ("block_nested_x2", nested()),
        ("block_identity_x2", blocked(VEC, [], "Nothing", repeat=2)[0]),
        ("block_lstm", blocked(SEQ, [("LSTM", {"hidden_size": 6, "output": "all steps"}), "Tanh"],
                               "Recurrent")[0]),
        ("block_shared_names", shared_names()),
        ("block_cnblock", cnblock()),
    ]
