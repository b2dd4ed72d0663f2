"""Incremental shape inference: every node's output shape, weight count and
multiply-add count, recomputed only downstream of an edit.

Propagation walks a heap ordered by a cached topological rank and only
continues past a node whose info actually changed, so an edit costs about the
number of nodes whose output shapes change, not the size of the graph. Ranks stay
valid under most edits (new nodes get the highest rank, removals keep the
order); a wire against the order is detected and the ranks are rebuilt.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import networkx as nx

from studio.graph.layers import spec
from studio.graph.spec import Shape, ShapeError

if TYPE_CHECKING:
    from studio.graph.model import Edge, GraphModel

LOOP_MSG = "This layer is part of a loop: data must flow one way, from Input to Output"


@dataclass(frozen=True)
class NodeInfo:
    out: Shape | None = None
    error: str | None = None  # a shape problem of this node itself
    fix_layer: str | None = None  # a layer type that, inserted before it, fixes `error`
    inputs: tuple[Shape, ...] = ()
    weights: int = 0
    macs: int = 0


class _StaleRanks(Exception):
    """A wire runs against the cached order; rebuild it and start over."""


class ShapeTable:
    def __init__(self, model: "GraphModel") -> None:
        self.model = model
        self.info: dict[str, NodeInfo] = {}
        self._rank: dict[str, int] | None = {}
        self._next_rank = itertools.count()
        self._looped: set[str] = set()

    # -- queries -----------------------------------------------------------------
    def out(self, nid: str) -> Shape | None:
        i = self.info.get(nid)
        return i.out if i is not None else None

    def error(self, nid: str) -> str | None:
        i = self.info.get(nid)
        return i.error if i is not None else None

    def fix_layer(self, nid: str) -> str | None:
        i = self.info.get(nid)
        return i.fix_layer if i is not None else None

    def edge_shape(self, edge: "Edge") -> Shape | None:
        return self.out(edge.src)

    def totals(self) -> tuple[int, int]:
        return (sum(i.weights for i in self.info.values()), sum(i.macs for i in self.info.values()))

    # -- updates -----------------------------------------------------------------
    def forget(self, nid: str) -> None:
        self.info.pop(nid, None)
        self._looped.discard(nid)
        if self._rank is not None:
            self._rank.pop(nid, None)

    def recompute_all(self) -> set[str]:
        return self.update(list(self.model.g.nodes), full=True)

    def update(self, roots: Iterable[str], full: bool = False) -> set[str]:
        """Recompute `roots` and whatever downstream their changes reach; returns
        the ids whose info changed. `full` recomputes every node reached."""
        g = self.model.g
        roots = {r for r in roots if r in g}
        # Breaking a loop frees nodes upstream of the edit too.
        roots |= {n for n in self._looped if n in g}
        if not roots:
            return set()
        if self._rank is not None:
            try:
                return self._propagate(roots, full)
            except _StaleRanks:
                pass
        if self._rebuild_ranks():
            return self._propagate(roots, full=True)
        return self._update_with_loops(roots)

    def _propagate(self, roots: set[str], full: bool) -> set[str]:
        g, rank = self.model.g, self._rank
        for r in roots:
            if r not in rank:  # a new node has no wires yet: last is a valid place
                rank[r] = next(self._next_rank)
        for r in roots:
            # A new wire ends at a root; if it runs against the order (or closes a
            # loop) the ranks must be rebuilt even when nothing else changes.
            rr = rank[r]
            for p in g._pred[r]:  # adjacency dict: networkx views are slow here
                rp = rank.get(p)
                if rp is None or rp >= rr:
                    raise _StaleRanks
        heap = [(rank[r], r) for r in roots]
        heapq.heapify(heap)
        queued = set(roots)
        changed: set[str] = set()
        pending: dict[str, NodeInfo] = {}  # applied only if the ranks hold to the end
        while heap:
            r, nid = heapq.heappop(heap)
            new = self._compute(nid, pending)
            old = self.info.get(nid)
            if new == old and not full:
                continue
            pending[nid] = new
            # Successors read only `out`; a weight count change stops here.
            if old is not None and new.out == old.out and not full:
                continue
            for s in g._succ[nid]:
                rs = rank.get(s)
                if rs is None or rs <= r:
                    raise _StaleRanks
                if s not in queued:
                    queued.add(s)
                    heapq.heappush(heap, (rs, s))
        for nid, new in pending.items():
            if self.info.get(nid) != new:
                changed.add(nid)
            self.info[nid] = new
        self._looped -= set(pending)
        return changed

    def _rebuild_ranks(self) -> bool:
        """Rank every node in topological order; False (ranks unknown) if there is a loop."""
        try:
            order = list(nx.topological_sort(self.model.g))
        except nx.NetworkXUnfeasible:
            self._rank = None
            return False
        self._next_rank = itertools.count()
        self._rank = {n: next(self._next_rank) for n in order}
        return True

    def _update_with_loops(self, roots: set[str]) -> set[str]:
        """The graph has a loop: recompute everything downstream of the edit, in
        the order of its strongly connected parts; loop members get LOOP_MSG."""
        g = self.model.g
        affected = set(roots)
        for r in roots:
            affected |= nx.descendants(g, r)
        order, looped = _order_with_loops(g.subgraph(affected))
        changed: set[str] = set()
        for nid in order:
            new = NodeInfo(error=LOOP_MSG) if nid in looped else self._compute(nid)
            if self.info.get(nid) != new:
                self.info[nid] = new
                changed.add(nid)
        self._looped = (self._looped - affected) | looped
        return changed

    def _compute(self, nid: str, pending: dict[str, NodeInfo] | None = None) -> NodeInfo:
        m = self.model
        s = spec(m.type_of(nid))
        if s.type == "BlockInput":
            return NodeInfo(out=m.feed)
        ins: list[Shape] = []
        for port in s.inputs:
            edges = m.in_edges(nid, port.name)
            if not edges or (len(edges) > 1 and not port.multi):
                return NodeInfo()  # wiring problems are reported by validation
            for e in edges:
                src = pending.get(e.src) if pending else None
                shape = src.out if src is not None else self.out(e.src)
                if shape is None:
                    return NodeInfo()
                ins.append(shape)
        params = m.params(nid)
        if s.type == "Block":
            return _block_info(m, nid, ins)
        try:
            out = s.infer(params, ins)
        except ShapeError as e:
            return NodeInfo(error=str(e), fix_layer=e.insert, inputs=tuple(ins))
        return NodeInfo(out=out, inputs=tuple(ins), weights=s.weights(params, ins, out),
                        macs=s.macs(params, ins, out))


def _block_info(m: "GraphModel", nid: str, ins: list[Shape]) -> NodeInfo:
    """A block's shape and counts, from its body with the block's input fed in."""
    body, p = m.body(nid), m.params(nid)
    (x,) = ins
    name, ins = p["name"], tuple(ins)
    body.drive(x)
    ends = body.of_type("BlockInput"), body.of_type("BlockOutput")
    if len(ends[0]) != 1 or len(ends[1]) != 1:
        return NodeInfo(error=f"The block {name} needs exactly one Block input and one Block output "
                              "inside; double-click it to fix its inside", inputs=ins)
    for n in body.nodes():
        err = body.shapes.error(n)
        if err:
            return NodeInfo(error=f"Inside {name}, {n}: {err}", inputs=ins)
    y = body.shapes.out(ends[1][0])
    if y is None:
        return NodeInfo(error=f"The inside of {name} does not carry data from its input to its output "
                              "yet; double-click the block to finish it", inputs=ins)
    r = p["repeat"]
    if r > 1 and (y.dims, y.seq, y.dtype) != (x.dims, x.seq, x.dtype):
        return NodeInfo(error=f"Repeat ×{r} feeds the block its own output, so it must give the shape it "
                              f"takes: it takes {x.full()} but gives {y.full()}", inputs=ins)
    weights, macs = body.shapes.totals()
    return NodeInfo(out=y, inputs=ins, weights=weights * r, macs=macs * r)


def _order_with_loops(sub: nx.MultiDiGraph) -> tuple[list[str], set[str]]:
    cond = nx.condensation(sub)
    order: list[str] = []
    looped: set[str] = set()
    for c in nx.topological_sort(cond):
        members = cond.nodes[c]["members"]
        order.extend(sorted(members))
        if len(members) > 1:
            looped |= members
    return order, looped


def infer_fresh(model: "GraphModel") -> dict[str, NodeInfo]:
    """Shapes computed from scratch, to check the incremental table against."""
    table = ShapeTable(model)
    table.recompute_all()
    return table.info
