"""Blocks: a node that holds a subgraph (its body) between one input and one output.

A Block's shape, weight and multiply-add counts come from its body, which the
shape table infers with the block's input shape fed to the body's BlockInput
(studio.graph.shapes). The body itself lives on the node (studio.graph.model);
these declarations give the ports, the parameters and the card text.
"""
from studio.graph.spec import LayerSpec, Param, Port, Shape, ShapeError, register

MAX_REPEAT = 64


def _no_direct_infer(p, ins) -> Shape:  # the shape table infers blocks from their body
    raise ShapeError("a block's shape comes from its body")


def _block_summary(p) -> str:
    return f"{p['name']} ×{p['repeat']}" if p["repeat"] > 1 else p["name"]


BLOCK = register(LayerSpec(
    type="Block", trainable=True, category="Blocks", title="Block",
    description=("A group of layers used as one: double-click it to go inside and edit its "
                 "layers; the breadcrumb above the canvas leads back. Repeat runs the same "
                 "arrangement several times in a row (each copy with its own weights), which "
                 "needs the block's output shape to equal its input shape."),
    params=(
        Param("name", "text", "Block", "The block's name, shown on its card and used as its "
                                       "class name in exported code"),
        Param("repeat", "int", 1, "How many times the block runs in a row, each copy with its "
                                  "own weights", 1, MAX_REPEAT, label="Repeat ×"),
    ),
    inputs=(Port("in"),), outputs=(Port("out"),),
    infer=_no_direct_infer, ctor=None, summary=_block_summary, icon="block",
))

BLOCK_INPUT = register(LayerSpec(
    type="BlockInput", category="Blocks", title="Block input",
    description="Where data enters this block: the wire into the block's card outside.",
    params=(), inputs=(), outputs=(Port("out"),),
    infer=_no_direct_infer, ctor=None, icon="io", palette=False,
))


def _pass(p, ins) -> Shape:
    (x,) = ins
    return x


BLOCK_OUTPUT = register(LayerSpec(
    type="BlockOutput", category="Blocks", title="Block output",
    description="What this block gives on: the wire out of the block's card outside.",
    params=(), inputs=(Port("in"),), outputs=(),
    infer=_pass, ctor=None, icon="io", palette=False,
))
