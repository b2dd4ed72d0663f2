"""One small class per mouse gesture (after orange-canvas-core's UserInteraction).

The view creates a gesture on press, forwards move/release to it, and drops it
when it emits finished or canceled. Gestures edit the model only by pushing
commands on the view's undo stack, once, at the end.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QApplication

from studio.ui.editor.canvas.commands import Compound, Connect, Disconnect, MoveNodes, insert_on_edge
from studio.ui.editor.canvas.node_item import NodeItem
from studio.ui.editor.canvas.port_item import PortItem
from studio.ui.editor.canvas.theme import snap
from studio.ui.editor.canvas.wire_item import DragWire, WireItem

if TYPE_CHECKING:
    from studio.ui.editor.canvas.view import CanvasView

SNAP_RADIUS = 22.0  # a wire end this close (scene px) to a compatible port jumps onto it


class Interaction(QObject):
    started = Signal()
    finished = Signal()
    canceled = Signal()

    def __init__(self, view: "CanvasView"):
        super().__init__(view)
        self.view = view
        self.done = False

    def move(self, pos: QPointF, ev) -> None: ...
    def release(self, pos: QPointF, ev) -> None: ...

    def cancel(self) -> None:
        self._cleanup()
        self._end(self.canceled)

    def _cleanup(self) -> None: ...

    def _end(self, signal) -> None:
        if not self.done:
            self.done = True
            signal.emit()


class PanInteraction(Interaction):
    """Middle-drag, or Space + left-drag: scroll the view with the hand."""

    def __init__(self, view, view_pos: QPointF):
        super().__init__(view)
        self.last = view_pos
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move_view(self, view_pos: QPointF) -> None:
        d = view_pos - self.last
        self.last = view_pos
        h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        h.setValue(h.value() - round(d.x()))
        v.setValue(v.value() - round(d.y()))

    def _cleanup(self) -> None:
        self.view.viewport().unsetCursor()

    def release(self, pos, ev) -> None:
        self._cleanup()
        self._end(self.finished)


class MoveNodesInteraction(Interaction):
    """Drag selected cards; one MoveNodes command at the end, snapped to the grid.
    A single free card released over a wire is inserted into it (same step)."""

    def __init__(self, view, items: list[NodeItem], press: QPointF, grabbed: NodeItem, solo_on_click: bool):
        super().__init__(view)
        self.items, self.press, self.grabbed = items, press, grabbed
        self.start = {i.nid: i.pos() for i in items}
        self.dragging = False
        self.solo_on_click = solo_on_click  # plain click inside a multi-selection selects just this
        self.target: WireItem | None = None
        free_in, _ = grabbed.free_ports()
        self.can_insert = len(items) == 1 and free_in is not None and not view.is_locked()

    def move(self, pos, ev) -> None:
        d = pos - self.press
        if not self.dragging:
            if d.manhattanLength() * self.view.zoom() < QApplication.startDragDistance():
                return
            self.dragging = True
            self.started.emit()
        for i in self.items:
            q = self.start[i.nid] + d
            i.move_to(q.x(), q.y())
        if self.can_insert:
            self._set_target(self._wire_under(self.grabbed))

    def _wire_under(self, node: NodeItem) -> WireItem | None:
        c = node.sceneBoundingRect().center()
        for it in self.view.scene().items(QRectF(c.x() - 6, c.y() - 6, 12, 12)):
            if isinstance(it, WireItem) and node not in (it.src, it.dst):
                return it
        return None

    def _set_target(self, wire: WireItem | None) -> None:
        if wire is not self.target:
            if self.target is not None:
                self.target.set_hot(False)
            self.target = wire
            if wire is not None:
                wire.set_hot(True)

    def _cleanup(self) -> None:
        self._set_target(None)
        for i in self.items:
            i.move_to(self.start[i.nid].x(), self.start[i.nid].y())

    def release(self, pos, ev) -> None:
        if not self.dragging:
            if self.solo_on_click:
                self.view.scene().clearSelection()
                self.grabbed.setSelected(True)
            self._end(self.canceled)
            return
        model = self.view.model()
        moves = {}
        for i in self.items:
            new = (snap(i.pos().x()), snap(i.pos().y()))
            i.move_to(*new)
            if new != model.pos(i.nid):
                moves[i.nid] = (model.pos(i.nid), new)
        target, self.target = self.target, None
        if target is not None:
            target.set_hot(False)
            cmd = Compound(f"Insert {self.grabbed.spec.title} on wire")
            cmd.add(MoveNodes(model, moves))
            cmd.add(insert_on_edge(model, target.eid, node=self.grabbed.nid)[0])
            self.view.push(cmd)
        elif moves:
            self.view.push(MoveNodes(model, moves, f"Move {len(moves)} layer{'s' * (len(moves) > 1)}"))
        self._end(self.finished)


def compatible_ports(view: "CanvasView", node: str, direction: str, ignore_edge: str | None
                     ) -> list[PortItem]:
    """Ports a wire dragged from (node, direction) may end on: the other direction,
    another node, no loop, and an input with room (unless it takes several wires)."""
    model, scene = view.model(), view.scene()
    g = model.g
    if direction == "out":
        banned = nx.ancestors(g, node) | {node}
    else:
        banned = nx.descendants(g, node) | {node}
    want = "in" if direction == "out" else "out"
    out = []
    for nid, item in scene.nodes.items():
        if nid in banned:
            continue
        for (pname, pdir), port in item.ports.items():
            if pdir != want:
                continue
            if want == "in":
                edges = [e for e in model.in_edges(nid, pname) if e.id != ignore_edge]
                if edges and not port.multi:
                    continue
                if any(e.src == node for e in edges):  # the model refuses duplicate wires
                    continue
            elif any(e.src == nid and e.src_port == pname for e in model.in_edges(node)):
                continue
            out.append(port)
    return out


class NewWireInteraction(Interaction):
    """Drag from a port to a compatible port. Dragging a full single input picks
    its wire up to re-route it (dropped on empty canvas, it is removed); a new
    wire dropped on empty canvas opens quick-add and connects the chosen layer."""

    def __init__(self, view, port: PortItem):
        super().__init__(view)
        model = view.model()
        self.reroute = None
        if port.direction == "in" and not port.multi:
            existing = model.in_edges(port.node_id, port.name)
            if existing:
                self.reroute = existing[0]
        if self.reroute is not None:  # pick up the wire by its input end
            e = self.reroute
            self.anchor = view.scene().nodes[e.src].port(e.src_port, "out")
            view.scene().wires[e.id].set_shown(False)
        else:
            self.anchor = port
        self.candidates = compatible_ports(view, self.anchor.node_id, self.anchor.direction,
                                           self.reroute.id if self.reroute else None)
        for c in self.candidates:
            c.set_highlight(True)
        self.wire = DragWire(view.scene().theme, self.anchor.direction == "out")
        view.scene().addItem(self.wire)
        self.wire.set_ends(self.anchor.scenePos(), self.anchor.scenePos())
        self.started.emit()

    def _nearest(self, pos: QPointF) -> PortItem | None:
        best, best_d = None, SNAP_RADIUS
        for c in self.candidates:
            d = (c.scenePos() - pos).manhattanLength()
            if d < best_d:
                best, best_d = c, d
        if best is None:  # released on a card: its first compatible port will do
            node = self.view.node_at(pos)
            if node is not None:
                best = next((c for c in self.candidates if c.node is node), None)
        return best

    def move(self, pos, ev) -> None:
        target = self._nearest(pos)
        self.wire.set_ends(self.anchor.scenePos(), target.scenePos() if target else pos)

    def _cleanup(self) -> None:
        for c in self.candidates:
            c.set_highlight(False)
        if self.wire.scene() is not None:
            self.wire.scene().removeItem(self.wire)
        if self.reroute is not None and self.reroute.id in self.view.scene().wires:
            self.view.scene().wires[self.reroute.id].set_shown(True)

    def release(self, pos, ev) -> None:
        target = self._nearest(pos)
        self._cleanup()
        view, model = self.view, self.view.model()
        a = self.anchor
        old = self.reroute
        if target is not None:
            src, dst = (a, target) if a.direction == "out" else (target, a)
            if old is not None and (old.dst, old.dst_port) == (dst.node_id, dst.name):
                self._end(self.canceled)  # put back where it was
                return
            replace = [] if dst.multi else [e.id for e in model.in_edges(dst.node_id, dst.name)]
            if old is not None and old.id not in replace:
                replace.append(old.id)
            view.push(Connect(model, src.node_id, src.name, dst.node_id, dst.name, replace=replace))
            self._end(self.finished)
        elif old is not None and view.node_at(pos) is None:
            view.push(Disconnect(model, [old.id]))
            self._end(self.finished)
        elif view.node_at(pos) is None:
            self._end(self.finished)
            view.open_quick_add(pos, (a.node_id, a.name, a.direction))
        else:
            self._end(self.canceled)


class OpenBlockInteraction(Interaction):
    """Double-click on a block's card: its inside opens when the button comes up
    over the same card (a double-click that turned into a drag does nothing)."""

    def __init__(self, view, node: NodeItem):
        super().__init__(view)
        self.node = node

    def release(self, pos, ev) -> None:
        over = self.view.node_at(pos) is self.node
        self._end(self.finished if over else self.canceled)
        if over:
            self.view.open_block(self.node.nid)
