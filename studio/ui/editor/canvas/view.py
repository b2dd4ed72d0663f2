"""CanvasView: the node editor widget the main window embeds.

Mouse presses pick a gesture (interactions.py); every edit is a command pushed
on the document's undo stack. Application-wide shortcuts (undo, copy, delete,
...) belong to the main window's QActions, which call the methods here; keys
that reach keyPressEvent unclaimed are handled as a fallback, so the canvas
also works on its own without registering competing shortcuts.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QGraphicsView, QLabel

from studio.graph.layers import spec
from studio.graph.model import GraphError, GraphModel
from studio.graph.fixes import Fix, InsertLayer

from studio.ui.editor.canvas import clipboard
from studio.ui.editor.canvas.commands import (AddNode, Clip, MoveNodes, RemoveNodes, SetParam, fresh_ids,
                                              insert_on_edge, paste, read_clip)
from studio.ui.editor.canvas.layout import auto_layout
from studio.ui.editor.canvas.navigation import BlockNavigator, BlockNavMixin
from studio.ui.editor.canvas.node_item import HEADER, WIDTH, NodeItem
from studio.ui.editor.canvas.quick_add import QuickAddPopup
from studio.ui.editor.canvas.scene import GraphScene
from studio.ui.editor.canvas.theme import GRID, snap
from studio.ui.editor.canvas.view_blocks import BlockEditMixin
from studio.ui.editor.canvas.view_quick_add import QuickAddMixin
from studio.ui.editor.canvas.view_input import LAYER_MIME, ZOOM_MIN, CanvasInputMixin  # noqa: F401  (LAYER_MIME re-exported)
from studio.ui.editor.canvas.wire_item import LABEL_LOD, WireItem

PASTE_STEP = 40.0
EMPTY_HINT = "Drag a layer here, or press Tab"


class CanvasView(BlockNavMixin, BlockEditMixin, QuickAddMixin, CanvasInputMixin, QGraphicsView):
    selection_changed = Signal(list)
    status_message = Signal(str)
    level_changed = Signal()  # the canvas shows another graph: the top level or a block's inside

    def __init__(self, parent=None):
        super().__init__(parent)
        self._scene = GraphScene(self)
        self.setScene(self._scene)
        self._model: GraphModel | None = None
        self._stack = QUndoStack(self)
        self._stack.indexChanged.connect(self._scene.flush)
        self._locked = False
        self._gesture = None
        self._space = False
        self._pastes = 0
        self._quick_add: QuickAddPopup | None = None
        self.fix_menu = None  # the badge's choice of cures, while open
        self.pointer: QPointF | None = None  # the mouse's last scene position over the canvas
        self._pasted_at: QPointF | None = None
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        # The dot grid is drawn once per scroll/zoom, not on every repaint after an edit.
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.ContainsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self._banner = QLabel("Training — the graph is locked", self)
        self._banner.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._banner.hide()
        self._scene.selectionChanged.connect(self._emit_selection)
        self.nav = BlockNavigator(self)
        self.nav.changed.connect(self.level_changed)
        self.set_dark(False)
        self.centerOn(0, 0)

    # -- document ----------------------------------------------------------------------
    def set_model(self, model: GraphModel, undo_stack: QUndoStack) -> None:
        """Show a document's graph (its top level); blocks are entered from here."""
        if undo_stack is not self._stack:
            self._stack.indexChanged.disconnect(self._scene.flush)
            self._stack = undo_stack
            self._stack.indexChanged.connect(self._scene.flush)
        self.nav.reset(model, undo_stack)
        self.show_graph(model)
        self.level_changed.emit()

    def show_graph(self, model: GraphModel) -> None:
        """Draw `model` (the root or a block's inside); the navigator decides which."""
        self.cancel_gesture()
        self._model = model
        self._scene.set_model(model)
        self.viewport().update()

    def model(self) -> GraphModel | None:
        """The graph shown: the document's top level or the inside of a block."""
        return self._model

    def root_model(self) -> GraphModel | None:
        return self.nav.root

    def undo_stack(self) -> QUndoStack:
        return self._stack

    def push(self, cmd: QUndoCommand) -> None:
        empty = not self._scene.nodes
        self._stack.push(cmd)
        self._scene.flush()  # a merged or obsolete command does not move the index
        if empty != (not self._scene.nodes):
            self.viewport().update()  # the empty-canvas hint comes or goes

    def problems(self):
        """The latest validation result (list of Problem)."""
        return self._scene.problems

    # -- editing API -----------------------------------------------------------------------
    def is_locked(self) -> bool:
        return self._locked

    def _editable(self) -> bool:
        if self._model is None:
            return False
        if self._locked:
            self.status_message.emit("The graph is locked while training")
            return False
        return True

    def add_layer(self, layer_type: str, scene_pos: QPointF | None = None,
                  params: dict | None = None) -> str | None:
        """Add a layer centred on scene_pos (default: the middle of the view),
        snapped to the grid; one undo step. Returns the new node id."""
        if not self._editable() or not self.placeable(layer_type):
            return None
        if scene_pos is None:
            scene_pos = self.mapToScene(self.viewport().rect().center())
        s = spec(layer_type)
        h = HEADER + max(28.0, max(len(s.inputs), len(s.outputs), 1) * 20 + 8)
        pos = (snap(scene_pos.x() - WIDTH / 2), snap(scene_pos.y() - h / 2))
        (nid,) = fresh_ids(self._model, [layer_type])
        self.push(AddNode(self._model, layer_type, params, pos, nid=nid))
        return nid

    def selected_nodes(self) -> list[str]:
        return self._scene.selected_node_ids()

    def select_nodes(self, ids: list[str]) -> None:
        with _batched_selection(self):
            self._scene.clearSelection()
            for nid in ids:
                item = self._scene.nodes.get(nid)
                if item is not None:
                    item.setSelected(True)

    def select_all(self) -> None:
        self.select_nodes(list(self._scene.nodes))

    def delete_selected(self) -> None:
        if not self._editable():
            return
        ids = self.selected_nodes()
        gone = set(ids)
        wires = [w.eid for w in self._scene.selectedItems() if isinstance(w, WireItem)
                 and w.edge.src not in gone and w.edge.dst not in gone]
        if ids or wires:
            self.push(RemoveNodes(self._model, ids, wires))

    def copy(self) -> None:
        ids = self.selected_nodes()
        if self._model is None or not ids:
            return
        clipboard.put(clipboard.subgraph(self._model, ids))
        self._pastes = 0
        self._pasted_at = None
        self.status_message.emit(f"Copied {len(ids)} layer{'s' * (len(ids) > 1)}")

    def cut(self) -> None:
        if self._editable() and self.selected_nodes():
            self.copy()
            ids = self.selected_nodes()
            cmd = RemoveNodes(self._model, ids)
            cmd.setText(f"Cut {len(ids)} layer{'s' * (len(ids) > 1)}")
            self.push(cmd)

    def paste(self) -> None:
        raw = clipboard.get()
        if not self._editable() or not raw:
            return
        try:
            clip = read_clip(self._model, raw)  # checked whole: it may come from another program
        except GraphError as e:
            self.status_message.emit(f"Cannot paste: {e}")
            return
        self._pastes += 1
        at = self.pointer
        if at is not None and self.viewport().rect().contains(self.mapFromScene(at)):
            # At the cursor, as in other node editors: the copied group's top-left card there.
            g = clip.graph
            x0 = min(g.pos(n)[0] for n in g.nodes())
            y0 = min(g.pos(n)[1] for n in g.nodes())
            repeat = PASTE_STEP * (self._pastes - 1) if at == self._pasted_at else 0.0
            if at != self._pasted_at:
                self._pastes = 1
            self._pasted_at = at
            self._paste(clip, (snap(at.x() - x0) + repeat, snap(at.y() - y0) + repeat))
            return
        self._paste(clip, self._pastes * PASTE_STEP)

    def duplicate(self) -> None:
        ids = self.selected_nodes()
        if self._editable() and ids:
            self._paste(clipboard.subgraph(self._model, ids), PASTE_STEP, "Duplicate")

    def _paste(self, clip: dict | Clip, d, text: str | None = None) -> list[str]:
        try:
            cmd, new = paste(self._model, clip, d if isinstance(d, tuple) else (d, d))
        except GraphError as e:
            self.status_message.emit(f"Cannot {(text or 'paste').lower()}: {e}")
            return []
        if text:
            cmd.setText(f"{text} {len(new)} layer{'s' * (len(new) > 1)}")
        self.push(cmd)
        self.select_nodes(new)
        if cmd.skipped:
            where = "inside a block" if self._model.is_body else "outside a block"
            self.status_message.emit(f"{' and '.join(sorted(set(cmd.skipped)))} cannot go {where}: "
                                     f"pasted the other {len(new)} layer{'s' * (len(new) != 1)}")
        return new

    def apply_fix(self, fix: Fix) -> str | None:
        if not self._editable():
            return None
        if isinstance(fix, InsertLayer):
            if not self._model.has_edge(fix.edge):
                return None
            cmd, nid = insert_on_edge(self._model, fix.edge, layer=fix.layer, text=fix.label,
                                      make_room=True)
        else:
            if fix.node not in self._model.g:
                return None
            cmd, nid = SetParam(self._model, fix.node, fix.param, fix.value), fix.node
        self.push(cmd)
        self.status_message.emit(f"Fixed: {fix.label}")
        item = self._scene.nodes.get(nid)
        if item is not None:  # the fixed layer stays in view
            self.ensureVisible(item.sceneBoundingRect(), 20, 20)
        return nid

    def insert_layer_on_wire(self, eid: str, layer: str, scene_pos: QPointF | None = None) -> str | None:
        """A new layer splitting wire eid: centred on scene_pos, or else placed where
        the wire's end was, with everything downstream shifted right to make room."""
        if not self._editable():
            return None
        pos = None
        if scene_pos is not None:
            pos = (snap(scene_pos.x() - WIDTH / 2), snap(scene_pos.y() - HEADER))
        cmd, nid = insert_on_edge(self._model, eid, layer=layer, text=f"Insert {spec(layer).title}",
                                  pos=pos, make_room=pos is None)
        self.push(cmd)
        return nid

    def auto_layout(self) -> None:
        if self._model is None:
            return
        m = self._model
        moves = {n: (m.pos(n), p) for n, p in auto_layout(m).items() if p != m.pos(n)}
        if moves:
            self.push(MoveNodes(m, moves, "Auto-layout"))

    # -- view ----------------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        rect = QRectF()
        for item in self._scene.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        for wire in self._scene.wires.values():  # wrap-around wires bulge past the cards
            rect = rect.united(wire.mapRectToScene(wire.path().boundingRect()))
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        self.fitInView(rect.adjusted(-60, -60, 60, 60), Qt.AspectRatioMode.KeepAspectRatio)
        z = self.zoom()
        clamped = min(max(z, ZOOM_MIN), 1.25)
        if clamped != z:
            self.scale(clamped / z, clamped / z)
            self.centerOn(rect.center())

    def reveal(self, ids) -> None:
        """Scroll so that the cards `ids` (those still there) are in view."""
        rect = QRectF()
        for nid in ids:
            if (item := self._scene.nodes.get(nid)) is not None:
                rect = rect.united(item.sceneBoundingRect())
        if not rect.isNull():
            self.ensureVisible(rect, 40, 40)

    def set_locked(self, locked: bool) -> None:
        self._locked = locked
        if locked:
            self.cancel_gesture()
        self._banner.setVisible(locked)
        self._place_banner()

    def set_dark(self, dark: bool) -> None:
        self._dark = dark
        self._scene.set_dark(dark)
        t = self._scene.theme
        self._banner.setStyleSheet(
            f"QLabel {{ background: {t.p.card}; color: {t.p.text_dim}; border: 1px solid "
            f"{t.p.card_border}; border-radius: 11px; padding: 3px 12px; font-size: 11px; }}")
        self._banner.adjustSize()
        self.resetCachedContent()  # the cached background has the old theme's colours
        self.viewport().update()

    def _place_banner(self) -> None:
        self._banner.adjustSize()
        self._banner.move((self.width() - self._banner.width()) // 2, 10)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._place_banner()

    def paintEvent(self, ev) -> None:
        if self.zoom() >= LABEL_LOD:
            self._scene.kick_labels()  # labels left waiting while zoomed out
        super().paintEvent(ev)

    def drawForeground(self, p: QPainter, rect: QRectF) -> None:
        if self._scene.nodes or self._model is None:
            return
        p.save()  # an empty canvas says how to start, in screen coordinates
        p.resetTransform()
        p.setPen(self._scene.theme.color("text_dim"))
        font = p.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        p.setFont(font)
        p.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, EMPTY_HINT)
        p.restore()

    def drawBackground(self, p: QPainter, rect: QRectF) -> None:
        t = self._scene.theme
        p.fillRect(rect, t.color("background"))
        step = GRID
        while step * self.zoom() < 15:  # dots never closer than 15 screen px
            step *= 2
        pen = QPen(t.color("dots"), 1.8)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        x0 = int(rect.left() // step) * step
        y0 = int(rect.top() // step) * step
        xs = range(x0, int(rect.right()) + 1, step)
        pts = [QPointF(x, y) for y in range(y0, int(rect.bottom()) + 1, step) for x in xs]
        p.drawPoints(pts)

    # -- hit testing helpers ------------------------------------------------------------------
    def node_at(self, scene_pos: QPointF) -> NodeItem | None:
        for it in self._scene.items(scene_pos):
            while it is not None and not isinstance(it, NodeItem):
                it = it.parentItem()
            if it is not None:
                return it
        return None

    def port_scene_pos(self, node_id: str, port: str, direction: str) -> QPointF:
        return self._scene.nodes[node_id].port(port, direction).scenePos()

    def node_scene_rect(self, node_id: str) -> QRectF:
        item = self._scene.nodes[node_id]
        return item.mapRectToScene(item.card_rect())

    def node_item(self, node_id: str) -> NodeItem | None:
        return self._scene.nodes.get(node_id)

    def wire_item(self, edge_id: str) -> WireItem | None:
        return self._scene.wires.get(edge_id)

    def _emit_selection(self) -> None:
        if not getattr(self, "_batching", False):
            self.selection_changed.emit(self.selected_nodes())

class _batched_selection:
    """Emit selection_changed once for a programmatic selection change."""

    def __init__(self, view: CanvasView):
        self.view = view

    def __enter__(self):
        self.view._batching = True

    def __exit__(self, *exc):
        self.view._batching = False
        self.view._emit_selection()
