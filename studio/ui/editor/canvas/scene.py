"""GraphScene: the view side of a GraphModel.

It subscribes to the model in `set_model` and creates, updates and removes
items as events arrive; it never edits the model (commands do that). Wire
labels follow `ShapesChanged`: those in a visible view at once, the others
in batches from a zero-timer (an edit near the input of a 500-node graph
relabels hundreds of wires; the user sees only a few). Validation (error badges) is re-run
once per batch of events, from `flush()`, which the view calls when the undo
stack moves and a zero-timer calls for edits made outside the stack.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, QTimer
from PySide6.QtWidgets import QGraphicsScene

from studio.graph.events import (BodyChanged, EdgeAdded, EdgeRemoved, GraphEvent, NodeAdded, NodeMoved,
                                 NodeRemoved, ParamChanged, ShapesChanged)
from studio.graph.model import Edge, GraphModel
from studio.graph.validate import Problem, problems_by_node, validate

from studio.ui.editor.canvas.block_item import BlockItem
from studio.ui.editor.canvas.node_item import NodeItem
from studio.ui.editor.canvas.theme import CanvasTheme
from studio.ui.editor.canvas.wire_item import LABEL_LOD, WireItem

HALF_EXTENT = 50000.0  # a large fixed scene: panning never hits an edge
LABEL_BATCH = 120      # off-screen wire labels relabelled per event-loop turn


class GraphScene(QGraphicsScene):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.theme = CanvasTheme()
        self.model: GraphModel | None = None
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[str, WireItem] = {}
        self.problems: list[Problem] = []
        self.graph_problems: list[Problem] = []  # not tied to a node (no Input, ...)
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.flush)
        self._relabel: dict[str, WireItem] = {}  # off-screen wires whose label waits
        self._label_timer = QTimer(self)
        self._label_timer.setSingleShot(True)
        self._label_timer.setInterval(0)
        self._label_timer.timeout.connect(self._relabel_batch)
        self.setSceneRect(QRectF(-HALF_EXTENT, -HALF_EXTENT, 2 * HALF_EXTENT, 2 * HALF_EXTENT))

    # -- document ------------------------------------------------------------------
    def set_model(self, model: GraphModel | None) -> None:
        if self.model is not None:
            self.model.unsubscribe(self._on_event)
        for w in self.wires.values():
            w.detach()
        # Forget the items before clear() deletes them: clearing a selection emits
        # selectionChanged, whose slots ask selected_node_ids().
        self.nodes.clear()
        self.wires.clear()
        self._relabel.clear()
        self.clear()
        self.problems = []
        self.model = model
        if model is None:
            return
        for nid in model.nodes():
            self._add_node(nid)
        for e in model.edges():
            self._add_wire(e)
        model.subscribe(self._on_event)
        self._dirty = True
        self.flush()

    # -- model events ------------------------------------------------------------------
    def _on_event(self, ev: GraphEvent) -> None:
        match ev:
            case NodeAdded(id=nid):
                self._add_node(nid)
            case NodeRemoved(id=nid):
                self._remove_node(nid)
            case EdgeAdded(edge=e):
                self._add_wire(e)
            case EdgeRemoved(edge=e):
                self._remove_wire(e)
            case ParamChanged(id=nid):
                if (item := self.nodes.get(nid)) is not None:
                    item.set_params(self.model.params(nid))
            case NodeMoved(id=nid, pos=pos):
                item = self.nodes.get(nid)
                if item is not None and (item.pos().x(), item.pos().y()) != tuple(pos):
                    item.move_to(*pos)
            case ShapesChanged(ids=ids):
                self._show_shapes(ids)
                for nid in ids:
                    self._block_stats(nid)
            case BodyChanged(id=nid, event=inner) if not isinstance(inner, (NodeMoved, ParamChanged)):
                self._block_stats(nid)
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def _remove_node(self, nid: str) -> None:
        item = self.nodes.pop(nid, None)
        if item is not None:
            for w in list(item.wires):  # normally gone already: the model drops edges first
                self._remove_wire(w.edge)
            self.removeItem(item)

    def _show_shapes(self, ids) -> None:
        m = self.model
        seen = self._visible_rect()
        for nid in ids:
            if nid in m.g:
                for e in m.out_edges(nid):
                    w = self.wires.get(e.id)
                    if w is None:
                        continue
                    shape = m.shapes.edge_shape(e)
                    if e.id not in self._relabel and shape == w.label.shape_shown():
                        continue  # e.g. only the parameter count changed
                    later = seen is not None and not seen.contains(w.label.pos())
                    w.set_shape(shape, defer=later)
                    if later:
                        self._relabel[e.id] = w
                    else:
                        self._relabel.pop(e.id, None)
        if self._relabel and not self._label_timer.isActive():
            self._label_timer.start()

    def _visible_rect(self) -> QRectF | None:
        """The scene area where labels are drawn by visible views (None: no view is
        shown, relabel all now; empty: every view is zoomed out past label drawing)."""
        rect = None
        for v in self.views():
            if v.isVisible():
                r = QRectF()
                if v.transform().m11() >= LABEL_LOD:
                    r = v.mapToScene(v.viewport().rect()).boundingRect().adjusted(-80, -40, 80, 40)
                rect = r if rect is None else rect.united(r)
        return rect

    def _relabel_batch(self) -> None:
        seen = self._visible_rect()
        if seen is not None and seen.isEmpty():
            return  # zoomed out past label drawing: wait (kick_labels) rather than repaint for nothing
        for _ in range(min(LABEL_BATCH, len(self._relabel))):
            self._relabel.pop(next(iter(self._relabel))).label.apply_pending()
        if self._relabel:
            self._label_timer.start()

    def kick_labels(self) -> None:
        """The view draws labels again (zoomed in): resume relabelling waiting wires."""
        if self._relabel and not self._label_timer.isActive():
            self._label_timer.start()

    def labels_pending(self) -> int:
        return len(self._relabel)

    def relabelling(self) -> bool:
        """Batches are scheduled (False when none wait, or they wait for a zoom-in)."""
        return self._label_timer.isActive()

    def flush_labels(self) -> None:
        """Relabel every waiting wire now (e.g. before a screenshot)."""
        while self._relabel:
            self._relabel_batch()

    # -- items ---------------------------------------------------------------------------
    def _add_node(self, nid: str) -> NodeItem:
        m = self.model
        type_ = m.type_of(nid)
        item = (BlockItem if type_ == "Block" else NodeItem)(nid, type_, m.params(nid), self.theme)
        item.setPos(*m.pos(nid))
        self.addItem(item)
        self.nodes[nid] = item
        if type_ == "Block":
            self._block_stats(nid)
        return item

    def _block_stats(self, nid: str) -> None:
        item = self.nodes.get(nid)
        if isinstance(item, BlockItem) and nid in self.model.g:
            info = self.model.shapes.info.get(nid)
            item.set_stats(self.model.body(nid), info.weights if info and not info.error else None)

    def _add_wire(self, e: Edge) -> None:
        src, dst = self.nodes[e.src], self.nodes[e.dst]
        w = WireItem(e, src, dst, self.theme)
        self.addItem(w)
        self.addItem(w.label)  # top-level, so it can stack above the cards
        self.wires[e.id] = w
        w.set_shape(self.model.shapes.edge_shape(e))
        src.set_port_connected(e.src_port, "out", True)
        dst.set_port_connected(e.dst_port, "in", True)

    def _remove_wire(self, e: Edge) -> None:
        self._relabel.pop(e.id, None)
        w = self.wires.pop(e.id, None)
        if w is None:
            return
        w.detach()
        self.removeItem(w.label)
        self.removeItem(w)
        m = self.model
        if e.src in self.nodes:
            busy = any(o.src_port == e.src_port for o in m.out_edges(e.src)) if e.src in m.g else False
            self.nodes[e.src].set_port_connected(e.src_port, "out", busy)
        if e.dst in self.nodes:
            busy = bool(m.in_edges(e.dst, e.dst_port)) if e.dst in m.g else False
            self.nodes[e.dst].set_port_connected(e.dst_port, "in", busy)

    # -- validation -----------------------------------------------------------------------
    def flush(self) -> None:
        """Re-validate now if anything changed since the last time."""
        self._timer.stop()
        if not self._dirty or self.model is None:
            return
        self._dirty = False
        self.problems = validate(self.model)
        by_node = problems_by_node(self.problems)
        self.graph_problems = by_node.pop(None, [])
        for nid, item in self.nodes.items():
            item.set_problems(tuple(by_node.get(nid, ())))

    # -- theme -----------------------------------------------------------------------------
    def set_dark(self, dark: bool) -> None:
        self.theme.set_dark(dark)
        for item in self.items():
            item.update()

    def selected_node_ids(self) -> list[str]:
        # creation order, not Qt's arbitrary selectedItems() order: stable for callers
        return [nid for nid, item in self.nodes.items() if item.isSelected()]
