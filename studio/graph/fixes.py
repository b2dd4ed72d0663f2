"""One-click fixes, as data: a problem or an error carries one of these, and the
editor (or a test) applies it with plain model edits. Nothing reads a fix back
out of a message's words.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Union

if TYPE_CHECKING:
    from studio.graph.model import GraphModel


@dataclass(frozen=True)
class InsertLayer:
    """Insert a layer of type `layer` on wire `edge`."""
    label: str
    layer: str
    edge: str
    kind: ClassVar[str] = "insert_layer"


@dataclass(frozen=True)
class SetParam:
    """Set parameter `param` of node `node` to `value`."""
    label: str
    node: str
    param: str
    value: Any
    kind: ClassVar[str] = "set_param"


Fix = Union[InsertLayer, SetParam]


def apply_fix(model: "GraphModel", fix: Fix) -> str:
    """Apply `fix` with plain model edits (an InsertLayer is disconnect, add,
    connect, connect), so an undo stack can record each step; returns the id of
    the node added or changed."""
    if isinstance(fix, SetParam):
        model.set_param(fix.node, fix.param, fix.value)
        return fix.node
    e = model.edge(fix.edge)
    (x0, y0), (x1, y1) = model.pos(e.src), model.pos(e.dst)
    model.disconnect(e.id)
    nid = model.add_node(fix.layer, pos=((x0 + x1) / 2, (y0 + y1) / 2))
    model.connect(e.src, e.src_port, nid, "in")
    model.connect(nid, "out", e.dst, e.dst_port)
    return nid
