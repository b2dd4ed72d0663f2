"""Undoable edits. Every command only calls GraphModel methods; the scene
follows the model's events, so undo/redo need no view code at all.

Compound edits (paste, insert-on-wire, quick-add-and-connect) are a Compound
of child commands, redone in order and undone in reverse, so each child stays
trivially correct.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from PySide6.QtGui import QUndoCommand

from studio.graph.layers import spec
from studio.graph.model import BODY_ONLY, MAX_DEPTH, TOP_ONLY, Edge, GraphError, GraphModel
from studio.project.file import ProjectError, build_graph

ROW_TOLERANCE = 80.0  # cards this close vertically are in one row
STEP_X = 240.0  # room made for an inserted layer (card width + wire label)


def fresh_ids(model: GraphModel, types: list[str]) -> list[str]:
    """New node ids for several nodes at once (model.new_id alone would repeat)."""
    taken = set(model.nodes())
    out = []
    for t in types:
        base = model.new_id(t).rstrip("0123456789")
        i = 1
        while f"{base}{i}" in taken:
            i += 1
        taken.add(f"{base}{i}")
        out.append(f"{base}{i}")
    return out


def fresh_edge_ids(model: GraphModel, n: int) -> list[str]:
    taken = {e.id for e in model.edges()}
    out, i = [], 1
    while len(out) < n:
        if f"e{i}" not in taken:
            out.append(f"e{i}")
            taken.add(f"e{i}")
        i += 1
    return out


class Compound(QUndoCommand):
    """Several commands as one step: redo in order, undo in reverse.

    The children live in a Python list rather than as Qt child commands: with
    Qt parents, PySide and the C++ parent both think they own a child, which
    crashed (double free) when the undo stack was destroyed."""

    def __init__(self, text: str):
        super().__init__(text)
        self.kids: list[QUndoCommand] = []

    def add(self, child: QUndoCommand) -> QUndoCommand:
        self.kids.append(child)
        return child

    def redo(self) -> None:
        for k in self.kids:
            k.redo()

    def undo(self) -> None:
        for k in reversed(self.kids):
            k.undo()


class AddNode(QUndoCommand):
    """`body`: a block's inside (an unplaced body GraphModel); the same object on every redo."""

    def __init__(self, model: GraphModel, type_: str, params: dict | None = None,
                 pos=(0.0, 0.0), nid: str | None = None, body: GraphModel | None = None):
        super().__init__(f"Add {spec(type_).title}")
        self.model, self.type, self.params, self.pos = model, type_, dict(params or {}), pos
        self.nid, self.body = nid, body

    def redo(self) -> None:
        self.nid = self.model.add_node(self.type, self.params, self.pos, nid=self.nid, body=self.body)

    def undo(self) -> None:
        self.model.remove_node(self.nid)


class RemoveNodes(QUndoCommand):
    """Nodes with all their wires, as one step; undo restores the same ids."""

    def __init__(self, model: GraphModel, ids: list[str], edge_ids: list[str] = ()):
        n = len(ids) + len(edge_ids)
        what = "layer" if ids else "wire"
        super().__init__(f"Delete {n} {what}{'s' if n != 1 else ''}")
        self.model, self.ids, self.extra_edges = model, list(ids), list(edge_ids)
        self.nodes: list[tuple] = []
        self.edges: list[Edge] = []

    def redo(self) -> None:
        m = self.model
        gone = set(self.ids)
        # a block keeps its inside object, so commands made inside it stay valid after undo
        self.nodes = [(n, m.type_of(n), dict(m.params(n)), m.pos(n), m.node(n).get("body")) for n in self.ids]
        # model order keeps the input order of merge layers after undo
        self.edges = [e for e in m.edges() if e.src in gone or e.dst in gone or e.id in self.extra_edges]
        for e in self.edges:
            m.disconnect(e.id)
        for n in self.ids:
            m.remove_node(n)

    def undo(self) -> None:
        for nid, type_, params, pos, body in self.nodes:
            self.model.add_node(type_, params, pos, nid=nid, body=body)
        for e in self.edges:
            self.model.connect(e.src, e.src_port, e.dst, e.dst_port, eid=e.id)


class Connect(QUndoCommand):
    """A new wire; `replace` lists wires removed first (re-routing an input)."""

    def __init__(self, model: GraphModel, src: str, src_port: str, dst: str, dst_port: str,
                 replace: list[str] = (), eid: str | None = None):
        super().__init__("Connect")
        self.model = model
        self.args = (src, src_port, dst, dst_port)
        self.replace = list(replace)
        self.removed: list[Edge] = []
        self.eid = eid

    def redo(self) -> None:
        self.removed = [self.model.disconnect(r) for r in self.replace]
        try:
            self.eid = self.model.connect(*self.args, eid=self.eid)
        except GraphError:  # refused: undo the removals and let push() drop this command
            for e in reversed(self.removed):
                self.model.connect(e.src, e.src_port, e.dst, e.dst_port, eid=e.id)
            self.removed = []
            self.setObsolete(True)

    def undo(self) -> None:
        self.model.disconnect(self.eid)
        for e in reversed(self.removed):
            self.model.connect(e.src, e.src_port, e.dst, e.dst_port, eid=e.id)


class Disconnect(QUndoCommand):
    def __init__(self, model: GraphModel, edge_ids: list[str]):
        n = len(edge_ids)
        super().__init__(f"Disconnect {n} wire{'s' if n != 1 else ''}")
        self.model, self.ids = model, list(edge_ids)
        self.removed: list[Edge] = []

    def redo(self) -> None:
        self.removed = [self.model.disconnect(e) for e in self.ids]

    def undo(self) -> None:
        for e in self.removed:
            self.model.connect(e.src, e.src_port, e.dst, e.dst_port, eid=e.id)


class SetParam(QUndoCommand):
    """Consecutive changes of one parameter (a spin-box drag) merge into one step."""
    ID = 7301

    def __init__(self, model: GraphModel, nid: str, name: str, value: Any):
        super().__init__(f"Set {name}")
        self.model, self.nid, self.name, self.value = model, nid, name, value
        self.old = model.params(nid)[name]

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParam) or (other.nid, other.name) != (self.nid, self.name):
            return False
        self.value = other.value
        return True

    def redo(self) -> None:
        self.model.set_param(self.nid, self.name, self.value)

    def undo(self) -> None:
        self.model.set_param(self.nid, self.name, self.old)


class MoveNodes(QUndoCommand):
    def __init__(self, model: GraphModel, moves: dict[str, tuple[tuple, tuple]],
                 text: str = "Move"):
        super().__init__(text)
        self.model, self.moves = model, dict(moves)  # id -> (old, new)

    def redo(self) -> None:
        for nid, (_old, new) in self.moves.items():
            self.model.move(nid, new)

    def undo(self) -> None:
        for nid, (old, _new) in self.moves.items():
            self.model.move(nid, old)


@dataclass
class Clip:
    """Clipboard nodes and wires, checked, as a graph of their own (ids as copied)."""
    graph: GraphModel
    skipped: list[str] = field(default_factory=list)  # types left out: ends that cannot live here


def read_clip(model: GraphModel, clip: Any) -> Clip:
    """Check clipboard data (untrusted: another program may have put it there) with the
    project file's own checks. The ends that cannot live in `model` (the network's
    Input/Output inside a block, a block's ends outside) are left out and named.
    GraphError says why nothing can be pasted."""
    skipped: list[str] = []
    if isinstance(clip, dict) and isinstance(clip.get("nodes"), list) and isinstance(clip.get("edges"), list):
        wrong = TOP_ONLY if model.is_body else BODY_ONLY
        out = {n.get("id") for n in clip["nodes"] if isinstance(n, dict) and n.get("type") in wrong}
        skipped = [n["type"] for n in clip["nodes"] if isinstance(n, dict) and n.get("type") in wrong]
        clip = {"nodes": [n for n in clip["nodes"] if not (isinstance(n, dict) and n.get("type") in wrong)],
                "edges": [e for e in clip["edges"]
                          if not (isinstance(e, dict) and (e.get("src") in out or e.get("dst") in out))]}
    try:
        graph = build_graph(clip, "the clipboard", body=model.is_body)
    except ProjectError as e:
        raise GraphError(str(e)) from None
    except RecursionError:
        raise GraphError("the clipboard holds blocks nested too deeply") from None
    if not len(graph):
        if skipped:
            where = "inside a block" if model.is_body else "outside a block"
            raise GraphError(f"{' and '.join(sorted(set(skipped)))} cannot be pasted {where}")
        raise GraphError("the clipboard holds no layers")
    deepest = max((nesting(graph.body(n)) for n in graph.of_type("Block")), default=0)
    if deepest and model.depth() + 1 + deepest > MAX_DEPTH:
        raise GraphError(f"blocks may be nested at most {MAX_DEPTH} deep; these would go deeper here")
    return Clip(graph, skipped)


def nesting(body: GraphModel) -> int:
    """How deep blocks nest in `body` itself (1: it holds no blocks)."""
    return 1 + max((nesting(body.body(n)) for n in body.of_type("Block")), default=0)


def paste(model: GraphModel, clip: dict | Clip, offset: tuple[float, float]) -> tuple[Compound, list[str]]:
    """Paste nodes from clipboard data (see clipboard.py), or a checked Clip, with new ids;
    wires between pasted nodes are kept, blocks keep their inside. Returns the command
    (`skipped`: the types left out) and the new ids. GraphError: nothing can be pasted."""
    if not isinstance(clip, Clip):
        clip = read_clip(model, clip)
    g = clip.graph
    ids = g.nodes()
    cmd = Compound(f"Paste {len(ids)} layer{'s' * (len(ids) != 1)}")
    cmd.skipped = clip.skipped
    new = fresh_ids(model, [g.type_of(n) for n in ids])
    rename = dict(zip(ids, new))
    edges = g.edges()
    for n, nid in zip(ids, new):
        x, y = g.pos(n)
        body = g.body(n) if g.type_of(n) == "Block" else None
        cmd.add(AddNode(model, g.type_of(n), g.params(n), (x + offset[0], y + offset[1]), nid=nid, body=body))
    for n in g.of_type("Block"):
        g.remove_node(n)  # frees its inside for the pasted block
    eids = fresh_edge_ids(model, len(edges))
    for e, eid in zip(edges, eids):
        cmd.add(Connect(model, rename[e.src], e.src_port, rename[e.dst], e.dst_port, eid=eid))
    return cmd, new


def insert_on_edge(model: GraphModel, eid: str, node: str | None = None, layer: str | None = None,
                   pos=None, text: str | None = None, make_room: bool = False) -> tuple[Compound, str]:
    """Split wire `eid` with an existing free `node` or a new `layer`.

    make_room shifts the wire's destination and everything after it right, so
    a fix inserted between two tightly placed cards does not cover them."""
    e = model.edge(eid)
    cmd = Compound(text or "Insert on wire")
    if node is None:
        sx, sy = model.pos(e.src)
        dx, dy = model.pos(e.dst)
        if make_room and abs(dy - sy) < ROW_TOLERANCE and dx - sx >= 2 * STEP_X:
            make_room = False  # the gap already holds a card: nothing needs to move
            pos = pos or (round((sx + dx) / 40) * 20, sy)
        elif make_room and abs(dy - sy) >= ROW_TOLERANCE and _free_at(model, (sx + STEP_X, sy)):
            make_room = False  # a wire wrapping to the next row: the free place after its source
            pos = pos or (sx + STEP_X, sy)
        if pos is None:
            pos = (dx, dy) if make_room else ((sx + dx) / 2, (sy + dy) / 2)
        if make_room:
            shifted = _room_makers(model, e.dst)
            if shifted:
                cmd.add(MoveNodes(model, {n: (model.pos(n), (model.pos(n)[0] + STEP_X, model.pos(n)[1]))
                                  for n in shifted}))
        (node,) = fresh_ids(model, [layer])
        cmd.add(AddNode(model, layer, None, pos, nid=node))
        s = spec(layer)
    else:
        s = spec(model.type_of(node))
    in_port, out_port = s.inputs[0].name, s.outputs[0].name
    cmd.add(Disconnect(model, [eid]))
    a, b = fresh_edge_ids(model, 2)
    cmd.add(Connect(model, e.src, e.src_port, node, in_port, eid=a))
    cmd.add(Connect(model, node, out_port, e.dst, e.dst_port, eid=b))
    return cmd, node


def _free_at(model: GraphModel, pos) -> bool:
    """No card within a card's width of `pos` on its row."""
    x, y = pos
    return all(abs(model.pos(n)[0] - x) >= STEP_X - 40 or abs(model.pos(n)[1] - y) >= ROW_TOLERANCE
               for n in model.nodes())


def _room_makers(model: GraphModel, dst: str) -> set[str]:
    """What moves right to make room before `dst`: dst and the cards after it in
    its own row only. Shifting every descendant pushed the rest of a wrapped
    net (the samples' rows) off-screen; the rows below keep their place."""
    dx, dy = model.pos(dst)
    downstream = {dst} | nx.descendants(model.g, dst)
    return {n for n in downstream if abs(model.pos(n)[1] - dy) < ROW_TOLERANCE and model.pos(n)[0] >= dx}


def add_and_connect(model: GraphModel, layer: str, pos, from_port: tuple[str, str, str] | None
                    ) -> tuple[Compound, str]:
    """Quick-add: a new layer, wired to the port the user dragged from (one step).
    from_port is (node, port, direction of that port)."""
    cmd = Compound(f"Add {spec(layer).title}")
    (nid,) = fresh_ids(model, [layer])
    cmd.add(AddNode(model, layer, None, pos, nid=nid))
    if from_port:
        other, port, direction = from_port
        s = spec(layer)
        if direction == "out" and s.inputs:
            cmd.add(Connect(model, other, port, nid, s.inputs[0].name))
        elif direction == "in" and s.outputs:
            replace = [] if _is_multi(model, other, port) else [e.id for e in model.in_edges(other, port)]
            cmd.add(Connect(model, nid, s.outputs[0].name, other, port, replace=replace))
    return cmd, nid


def _is_multi(model: GraphModel, nid: str, port: str) -> bool:
    return any(p.name == port and p.multi for p in spec(model.type_of(nid)).inputs)
