"""The model graph: a networkx MultiDiGraph of layers, with edit operations
that notify plain-Python listeners (the Qt canvas is one of them).

Nodes carry `type`, `params` and `pos`; edges are keyed by a stable edge id and
carry `src_port` and `dst_port`. Shapes are kept current incrementally: an edit
re-infers only the nodes downstream of it.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import networkx as nx

from studio.graph.events import (BodyChanged, EdgeAdded, EdgeRemoved, GraphEvent, Listener, NodeAdded,
                                 NodeMoved, NodeRemoved, ParamChanged, ShapesChanged)
from studio.graph.layers import spec
from studio.graph.shapes import ShapeTable
from studio.graph.spec import Shape

MAX_DEPTH = 8  # blocks inside blocks; deeper nesting is refused (and files claiming it)
TOP_ONLY = ("Input", "Output")  # the network's own ends; a block's are BlockInput/BlockOutput
BODY_ONLY = ("BlockInput", "BlockOutput")


@dataclass(frozen=True)
class Edge:
    id: str
    src: str
    src_port: str
    dst: str
    dst_port: str


class GraphError(ValueError):
    """An edit that cannot be made; the message says why."""


class UnknownLayerError(GraphError, KeyError):
    """An unknown layer type; still a KeyError, as `spec()` raised before."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
_reserved_ids: frozenset[str] | None = None


def _reserved() -> frozenset[str]:
    """Ids that would break the compiled module or the generated .py file: node ids
    become submodule names (so not an nn.Module/GraphModule attribute such as
    `training` or `graph`) and Python variable names (so not a keyword or `self`)."""
    global _reserved_ids
    if _reserved_ids is None:
        import keyword

        from torch import fx, nn  # deferred: only explicit ids need it
        instance = fx.GraphModule(nn.Module(), fx.Graph())  # instance attrs too (`training`)
        _reserved_ids = frozenset(dir(instance)) | frozenset(keyword.kwlist) | {
            "self", "torch", "nn", "super"}
    return _reserved_ids


def id_problem(nid: object) -> str | None:
    """Why `nid` cannot name a node, or None if it can."""
    if not isinstance(nid, str) or not _ID_RE.fullmatch(nid):  # fullmatch: "$" would allow a final newline
        return f"node id {nid!r} must be 1 to 100 letters, digits and _, not starting with a digit"
    if nid in _reserved():
        return f"node id {nid!r} is reserved by Python or PyTorch; choose another name"
    return None


class GraphModel:
    """Owns the graph. Every change goes through a method here and is announced.

    Listeners receive one event record (studio.graph.events): NodeAdded,
    NodeRemoved, EdgeAdded, EdgeRemoved, ParamChanged, NodeMoved, ShapesChanged.
    """

    def __init__(self, body: bool = False) -> None:
        self.is_body = body  # a block's inside: its ends are BlockInput/BlockOutput
        self.parent: tuple[GraphModel, str] | None = None  # (outer graph, block id) while placed
        self.feed: Shape | None = None  # a body's input shape, set by the block outside
        self._driving = False  # the outer graph is updating this body's shapes
        self._follow: Listener | None = None  # the outer graph's listener on this body
        self.g = nx.MultiDiGraph()
        self._edges: dict[str, Edge] = {}
        self._listeners: list[Listener] = []
        self._edge_seq = itertools.count(1)
        # Wire order into merge ports matters (Concat). An edge id keeps its rank
        # after removal, so undo restores a wire to its old place, not the end.
        self._rank: dict[str, int] = {}
        # Bumped on every structural edit (not on params or moves), so analyses of
        # the wiring alone (validation's reachability) can be cached between edits.
        self.structure_version = 0
        self._rank_seq = itertools.count()
        self.shapes = ShapeTable(self)

    # -- observers -----------------------------------------------------------
    def subscribe(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def unsubscribe(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _emit(self, event: GraphEvent) -> None:
        for fn in list(self._listeners):
            fn(event)

    # -- blocks ------------------------------------------------------------------
    def body(self, nid: str) -> "GraphModel":
        """The subgraph inside block `nid`."""
        return self.g.nodes[nid]["body"]

    def depth(self) -> int:
        """0 for the top level, 1 inside a block, and so on."""
        d, m = 0, self
        while m.parent is not None:
            d, m = d + 1, m.parent[0]
        return d

    def root(self) -> "GraphModel":
        m = self
        while m.parent is not None:
            m = m.parent[0]
        return m

    def drive(self, shape: Shape | None) -> None:
        """Set this body's input shape and re-infer what follows from it."""
        if shape == self.feed:
            return
        self.feed = shape
        self._driving = True
        try:
            self._reshape(self.of_type("BlockInput"))
        finally:
            self._driving = False

    def _attach(self, nid: str, body: "GraphModel") -> None:
        if body.parent is not None:
            raise GraphError("this block's inside already belongs to another block")
        if self.depth() + 1 + _body_depth(body) > MAX_DEPTH:
            raise GraphError(f"blocks may be nested at most {MAX_DEPTH} deep")

        def follow(event: GraphEvent, nid=nid) -> None:
            if body._driving:
                return
            if isinstance(event, ShapesChanged):
                self._reshape([nid])
            else:
                self._emit(BodyChanged(nid, event))
        body.parent = (self, nid)
        body._follow = follow
        body.subscribe(follow)

    @staticmethod
    def _detach(body: "GraphModel") -> None:
        body.unsubscribe(body._follow)
        body._follow, body.parent = None, None

    def _reshape(self, roots) -> None:
        changed = self.shapes.update(roots)
        if changed:
            self._emit(ShapesChanged(frozenset(changed)))

    # -- queries ---------------------------------------------------------------
    def nodes(self) -> list[str]:
        return list(self.g.nodes)

    def node(self, nid: str) -> dict:
        return self.g.nodes[nid]

    def type_of(self, nid: str) -> str:
        return self.g.nodes[nid]["type"]

    def params(self, nid: str) -> dict:
        return self.g.nodes[nid]["params"]

    def pos(self, nid: str) -> tuple[float, float]:
        return self.g.nodes[nid]["pos"]

    def of_type(self, type_: str) -> list[str]:
        return [n for n, t in self.g.nodes(data="type") if t == type_]

    def inputs(self) -> list[str]:
        """The Input nodes, in insertion order."""
        return self.of_type("Input")

    def outputs(self) -> list[str]:
        """The Output nodes, in insertion order."""
        return self.of_type("Output")

    def edges(self) -> list[Edge]:
        return list(self._edges.values())

    def edge(self, eid: str) -> Edge:
        return self._edges[eid]

    def has_edge(self, eid: str) -> bool:
        return eid in self._edges

    def in_edges(self, nid: str, port: str | None = None) -> list[Edge]:
        # networkx's edge views cost ~10 µs a call; shape inference calls this per
        # node per edit, so read the adjacency dicts (same order) directly.
        edges = self._edges
        out = [edges[k] for keys in self.g._pred[nid].values() for k in keys]
        if len(out) > 1:
            rank = self._rank
            out.sort(key=lambda e: rank[e.id])
        return out if port is None else [e for e in out if e.dst_port == port]

    def edge_rank(self, eid: str) -> int:
        """A wire's place in the order of wires into merge layers (kept across undo)."""
        return self._rank[eid]

    def out_edges(self, nid: str) -> list[Edge]:
        edges = self._edges
        return [edges[k] for keys in self.g._succ[nid].values() for k in keys]

    def new_id(self, type_: str) -> str:
        base = re.sub(r"[^a-z0-9]", "", type_.lower()) or "node"
        for i in itertools.count(1):
            cand = f"{base}{i}"
            if cand not in self.g:
                return cand
        raise AssertionError

    def __len__(self) -> int:
        return self.g.number_of_nodes()

    # -- edits -------------------------------------------------------------------
    def add_node(self, type_: str, params: dict | None = None, pos=(0.0, 0.0), nid: str | None = None,
                 body: "GraphModel | None" = None) -> str:
        """Add a layer. A Block gets `body` as its inside (a GraphModel made with
        body=True, e.g. kept by an undo command), or a fresh input-to-output one."""
        s = self._spec(type_)
        if type_ in TOP_ONLY and self.is_body:
            raise GraphError(f"{s.title} belongs to the whole network, not inside a block; a block's "
                             "data enters at its Block input and leaves at its Block output")
        if type_ in BODY_ONLY and not self.is_body:
            raise GraphError(f"{s.title} exists only inside a block")
        if body is not None and type_ != "Block":
            raise GraphError(f"{s.title} holds no layers inside")
        if nid is None:
            nid = self.new_id(type_)
        elif (why := id_problem(nid)) is not None:
            raise GraphError(why)
        if nid in self.g:
            raise GraphError(f"a node with id {nid!r} already exists")
        full = s.defaults()
        for k, v in (params or {}).items():
            try:
                full[k] = s.param(k).check(v)
            except KeyError:
                raise GraphError(f"{type_} has no parameter {k!r}") from None
            except ValueError as e:
                raise GraphError(str(e)) from None
        if type_ == "Block":
            if body is None:
                body = identity_body()
            elif not body.is_body:
                raise GraphError("a block's inside must be made as a body (GraphModel(body=True))")
            self._attach(nid, body)
            self.g.add_node(nid, type=type_, params=full, pos=(float(pos[0]), float(pos[1])), body=body)
        else:
            self.g.add_node(nid, type=type_, params=full, pos=(float(pos[0]), float(pos[1])))
        self.structure_version += 1
        self._emit(NodeAdded(nid))
        self._reshape([nid])
        return nid

    def remove_node(self, nid: str) -> None:
        self._need(nid)
        downstream = list(self.g.successors(nid))
        for e in self.in_edges(nid) + self.out_edges(nid):
            self._drop_edge(e)
        body = self.g.nodes[nid].get("body")
        if body is not None:  # kept intact: an undo puts the same inside back
            self._detach(body)
        self.g.remove_node(nid)
        self.structure_version += 1
        self.shapes.forget(nid)
        self._emit(NodeRemoved(nid))
        self._reshape(downstream)

    def connect(self, src: str, src_port: str, dst: str, dst_port: str, eid: str | None = None) -> str:
        for n in (src, dst):
            if n not in self.g:
                raise GraphError(f"no node {n!r}")
        if src_port not in spec(self.type_of(src)).port_names("out"):
            raise GraphError(f"{src} has no output port {src_port!r}")
        if dst_port not in spec(self.type_of(dst)).port_names("in"):
            raise GraphError(f"{dst} has no input port {dst_port!r}")
        if src == dst:
            raise GraphError("a layer cannot feed itself")
        for e in self.in_edges(dst, dst_port):
            if e.src == src and e.src_port == src_port:
                raise GraphError("these ports are already connected")
        eid = eid or self._new_edge_id()
        if eid in self._edges:
            raise GraphError(f"an edge with id {eid!r} already exists")
        e = Edge(eid, src, src_port, dst, dst_port)
        self._edges[eid] = e
        if eid not in self._rank:
            self._rank[eid] = next(self._rank_seq)
        self.g.add_edge(src, dst, key=eid, src_port=src_port, dst_port=dst_port)
        self.structure_version += 1
        self._emit(EdgeAdded(e))
        self._reshape([dst])
        return eid

    def disconnect(self, eid: str) -> Edge:
        if eid not in self._edges:
            raise GraphError(f"no wire {eid!r}")
        e = self._edges[eid]
        self._drop_edge(e)
        self._reshape([e.dst])
        return e

    def set_param(self, nid: str, name: str, value: Any) -> None:
        self._need(nid)
        try:
            p = spec(self.type_of(nid)).param(name)
        except KeyError:
            raise GraphError(f"{self.type_of(nid)} has no parameter {name!r}") from None
        try:
            value = p.check(value)
        except ValueError as ex:
            raise GraphError(str(ex)) from None
        self.g.nodes[nid]["params"][name] = value
        self._emit(ParamChanged(nid, name, value))
        self._reshape([nid])

    def move(self, nid: str, pos) -> None:
        self._need(nid)
        self.g.nodes[nid]["pos"] = (float(pos[0]), float(pos[1]))
        self._emit(NodeMoved(nid, self.g.nodes[nid]["pos"]))

    def clear(self) -> None:
        for nid in list(self.g.nodes):
            self.remove_node(nid)

    # -- helpers -------------------------------------------------------------------
    def _need(self, nid: str) -> None:
        if nid not in self.g:
            raise GraphError(f"no node {nid!r}")

    @staticmethod
    def _spec(type_: str):
        try:
            return spec(type_)
        except KeyError:
            raise UnknownLayerError(f"unknown layer type {type_!r}") from None

    def _new_edge_id(self) -> str:
        while True:
            eid = f"e{next(self._edge_seq)}"
            if eid not in self._edges:
                return eid

    def _drop_edge(self, e: Edge) -> None:
        self.g.remove_edge(e.src, e.dst, key=e.id)
        self.structure_version += 1
        del self._edges[e.id]
        self._emit(EdgeRemoved(e))

    def snapshot(self) -> dict:
        """Structure and parameters, for comparisons in tests and undo checks."""
        return {
            "nodes": {n: (d["type"], dict(d["params"]), d["pos"]) + (
                (d["body"].snapshot(),) if "body" in d else ()) for n, d in self.g.nodes(data=True)},
            "edges": {e.id: (e.src, e.src_port, e.dst, e.dst_port) for e in self._edges.values()},
        }


def identity_body() -> GraphModel:
    """A block's inside with nothing in it yet: its input wired to its output."""
    b = GraphModel(body=True)
    b.add_node("BlockInput", pos=(0.0, 0.0), nid="input")
    b.add_node("BlockOutput", pos=(520.0, 0.0), nid="output")
    b.connect("input", "out", "output", "in")
    return b


def _body_depth(body: GraphModel) -> int:
    """How deep blocks nest inside `body` itself (1: it holds no blocks)."""
    inner = [body.body(n) for n in body.of_type("Block")]
    return 1 + max((_body_depth(b) for b in inner), default=0)
