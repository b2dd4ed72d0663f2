"""Incremental shape inference: every node's output shape, weight count and
multiply-add count, recomputed only downstream of an edit."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import networkx as nx

from .layers import spec
from .spec import Shape, ShapeError

if TYPE_CHECKING:
    from .model import Edge, GraphModel

LOOP_MSG = "This layer is part of a loop: data must flow one way, from Input to Output"


@dataclass(frozen=True)
class NodeInfo:
    out: Shape | None = None
    error: str | None = None  # a shape problem of this node itself
    inputs: tuple[Shape, ...] = ()
    weights: int = 0
    macs: int = 0


class ShapeTable:
    def __init__(self, model: "GraphModel") -> None:
        self.model = model
        self.info: dict[str, NodeInfo] = {}

    # -- queries -----------------------------------------------------------------
    def out(self, nid: str) -> Shape | None:
        return self.info.get(nid, NodeInfo()).out

    def error(self, nid: str) -> str | None:
        return self.info.get(nid, NodeInfo()).error

    def edge_shape(self, edge: "Edge") -> Shape | None:
        return self.out(edge.src)

    def totals(self) -> tuple[int, int]:
        return (sum(i.weights for i in self.info.values()), sum(i.macs for i in self.info.values()))

    # -- updates -----------------------------------------------------------------
    def forget(self, nid: str) -> None:
        self.info.pop(nid, None)

    def recompute_all(self) -> set[str]:
        return self.update(list(self.model.g.nodes), full=True)

    def update(self, roots: Iterable[str], full: bool = False) -> set[str]:
        g = self.model.g
        roots = {r for r in roots if r in g}
        # A broken loop frees nodes upstream of the edit too.
        roots |= {n for n, i in self.info.items() if i.error == LOOP_MSG and n in g}
        if not roots:
            return set()
        affected = set(roots)
        for r in roots:
            affected |= nx.descendants(g, r)
        sub = g.subgraph(affected)
        try:
            order = list(nx.topological_sort(sub))
            looped: set[str] = set()
        except nx.NetworkXUnfeasible:
            order, looped = _order_with_loops(sub)
        changed: set[str] = set()
        for nid in order:
            if not full and nid not in roots and not any(p in changed for p in g.predecessors(nid)):
                continue
            new = NodeInfo(error=LOOP_MSG) if nid in looped else self._compute(nid)
            if self.info.get(nid) != new:
                self.info[nid] = new
                changed.add(nid)
        return changed

    def _compute(self, nid: str) -> NodeInfo:
        m = self.model
        s = spec(m.type_of(nid))
        ins: list[Shape] = []
        for port in s.inputs:
            edges = m.in_edges(nid, port.name)
            if not edges or (len(edges) > 1 and not port.multi):
                return NodeInfo()  # wiring problems are reported by validation
            for e in edges:
                shape = self.out(e.src)
                if shape is None:
                    return NodeInfo()
                ins.append(shape)
        params = m.params(nid)
        try:
            out = s.infer(params, ins)
        except ShapeError as e:
            return NodeInfo(error=str(e), inputs=tuple(ins))
        return NodeInfo(out=out, inputs=tuple(ins), weights=s.weights(params, ins, out),
                        macs=s.macs(params, ins, out))


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
