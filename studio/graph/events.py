"""The graph's events: one small frozen record per kind of change.

Listeners receive the event object and branch on its type
(`isinstance` or `match`), so a renamed field is a type error, not a
handler that silently stops being called.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Union

if TYPE_CHECKING:
    from studio.graph.model import Edge


@dataclass(frozen=True)
class NodeAdded:
    id: str


@dataclass(frozen=True)
class NodeRemoved:
    id: str


@dataclass(frozen=True)
class EdgeAdded:
    edge: "Edge"


@dataclass(frozen=True)
class EdgeRemoved:
    edge: "Edge"


@dataclass(frozen=True)
class ParamChanged:
    id: str
    name: str
    value: Any


@dataclass(frozen=True)
class NodeMoved:
    id: str
    pos: tuple[float, float]


@dataclass(frozen=True)
class ShapesChanged:
    ids: frozenset[str]


@dataclass(frozen=True)
class BodyChanged:
    """Something changed inside block `id`'s body (`event` is the body's own event),
    so the document is dirty; the block's shape, if it changed, follows as ShapesChanged."""
    id: str
    event: Any


GraphEvent = Union[NodeAdded, NodeRemoved, EdgeAdded, EdgeRemoved, ParamChanged, NodeMoved, ShapesChanged,
                   BodyChanged]
Listener = Callable[[GraphEvent], None]
