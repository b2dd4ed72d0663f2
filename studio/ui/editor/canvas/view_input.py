"""Mouse, keyboard and drag-and-drop input for CanvasView, kept apart from its
editing API. A press picks a gesture (interactions.py) from what is under the
cursor; moves and releases go to that gesture until it finishes or is canceled.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QMouseEvent

from studio.graph.layers import LAYERS

from studio.ui.editor.canvas.commands import Disconnect
from studio.ui.editor.user_blocks import BLOCK_MIME
from studio.ui.editor.canvas.block_item import OpenButton
from studio.ui.editor.canvas.interactions import (MoveNodesInteraction, NewWireInteraction, OpenBlockInteraction,
                                                  PanInteraction)
from studio.ui.editor.canvas.menus import show_context_menu, show_fix_menu
from studio.ui.editor.canvas.node_item import ErrorBadge, NodeItem
from studio.ui.editor.canvas.port_item import PortItem
from studio.ui.editor.canvas.wire_item import ShapeLabel, WireItem

LAYER_MIME = "application/x-studio-layer"
ZOOM_MIN, ZOOM_MAX = 0.2, 3.0


class CanvasInputMixin:
    """Mixed into CanvasView (before QGraphicsView, so these overrides win)."""
    # -- mouse -------------------------------------------------------------------------------------
    def cancel_gesture(self) -> None:
        if self._gesture is not None:
            g, self._gesture = self._gesture, None
            g.cancel()

    def _begin(self, gesture) -> None:
        self._gesture = gesture
        gesture.finished.connect(self._gesture_over)
        gesture.canceled.connect(self._gesture_over)

    def _gesture_over(self) -> None:
        self._gesture = None

    def mousePressEvent(self, ev) -> None:
        if self._gesture is not None:
            ev.accept()
            return
        self.setFocus()
        vpos = ev.position()
        pos = self.mapToScene(vpos.toPoint())
        button, mods = ev.button(), ev.modifiers()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._begin(PanInteraction(self, vpos))
            return
        if button != Qt.MouseButton.LeftButton or self._model is None:
            super().mousePressEvent(ev)
            return
        item = self.itemAt(vpos.toPoint())
        if isinstance(item, PortItem):
            if mods & Qt.KeyboardModifier.AltModifier:
                self.break_port(item)
            elif self._editable():
                self._begin(NewWireInteraction(self, item))
            return
        if isinstance(item, OpenButton):
            self.open_block(item.node.nid)
            return
        if isinstance(item, ErrorBadge):
            fixes = item.node.fixes()
            if len(fixes) > 1:  # the user's intent decides: offer each cure
                self.fix_menu = show_fix_menu(self, fixes, ev.globalPosition().toPoint())
            elif fixes:
                self.apply_fix(fixes[0])
            else:
                self.status_message.emit(item.node.problems[0].message)
            return
        toggle = bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        if isinstance(item, ShapeLabel):
            item = item.wire
        node = item if isinstance(item, NodeItem) else (
            item.parentItem() if item is not None and isinstance(item.parentItem(), NodeItem) else None)
        if node is not None:
            solo = False
            if toggle:
                node.setSelected(not node.isSelected())
                if not node.isSelected():
                    return
            elif not node.isSelected():
                self.select_nodes([node.nid])
            else:
                solo = len(self.selected_nodes()) > 1
            items = [self._scene.nodes[n] for n in self.selected_nodes()]
            self._begin(MoveNodesInteraction(self, items, pos, node, solo))
            return
        if isinstance(item, WireItem):
            if toggle:
                item.setSelected(not item.isSelected())
            else:
                self._scene.clearSelection()
                item.setSelected(True)
            return
        if mods & Qt.KeyboardModifier.ShiftModifier:  # Qt's rubber band adds with Ctrl only
            ev = _with_modifiers(ev, mods | Qt.KeyboardModifier.ControlModifier)
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev) -> None:
        self.pointer = self.mapToScene(ev.position().toPoint())  # where Paste lands
        g = self._gesture
        if g is None:
            super().mouseMoveEvent(ev)
        elif isinstance(g, PanInteraction):
            g.move_view(ev.position())
        else:
            g.move(self.mapToScene(ev.position().toPoint()), ev)

    def mouseReleaseEvent(self, ev) -> None:
        g = self._gesture
        if g is None:
            super().mouseReleaseEvent(ev)
            return
        g.release(self.mapToScene(ev.position().toPoint()), ev)
        if self._gesture is g:
            self._gesture = None

    def mouseDoubleClickEvent(self, ev) -> None:
        pos = self.mapToScene(ev.position().toPoint())
        if ev.button() == Qt.MouseButton.LeftButton and self.itemAt(ev.position().toPoint()) is None:
            self.open_quick_add(pos)
            return
        node = self.node_at(pos) if ev.button() == Qt.MouseButton.LeftButton else None
        on_part = isinstance(self.itemAt(ev.position().toPoint()), (PortItem, ErrorBadge))
        if node is not None and node.type == "Block" and self._gesture is None and not on_part:
            self._begin(OpenBlockInteraction(self, node))
            return
        super().mouseDoubleClickEvent(ev)

    def break_port(self, port: PortItem) -> None:
        """Alt-click: remove every wire on this port (one step)."""
        if not self._editable():
            return
        m = self._model
        if port.direction == "in":
            edges = m.in_edges(port.node_id, port.name)
        else:
            edges = [e for e in m.out_edges(port.node_id) if e.src_port == port.name]
        if edges:
            self.push(Disconnect(m, [e.id for e in edges]))

    def leaveEvent(self, ev) -> None:
        self.pointer = None  # Paste from the menu or toolbar: beside the originals
        super().leaveEvent(ev)

    def wheelEvent(self, ev) -> None:
        dy = ev.angleDelta().y() or ev.pixelDelta().y()
        if not dy:
            return
        z = self.zoom()
        target = min(max(z * 1.0015 ** dy, ZOOM_MIN), ZOOM_MAX)
        self.scale(target / z, target / z)

    def contextMenuEvent(self, ev) -> None:
        if self._gesture is None:
            show_context_menu(self, ev.pos(), ev.globalPos())

    # -- keys -----------------------------------------------------------------------------------------
    def event(self, ev) -> bool:
        # Tab would move focus before keyPressEvent sees it; here it means quick-add.
        if ev.type() == ev.Type.KeyPress and ev.key() == Qt.Key.Key_Tab and not ev.modifiers():
            self.open_quick_add(self.mapToScene(self.mapFromGlobal(self.cursor().pos())))
            return True
        return super().event(ev)

    def keyPressEvent(self, ev) -> None:
        key = ev.key()
        if key == Qt.Key.Key_Space and not ev.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif key == Qt.Key.Key_Escape:
            if self._gesture is not None:
                self.cancel_gesture()
            elif self._scene.selectedItems() or not self.go_up():  # nothing selected: up a level
                self._scene.clearSelection()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not ev.modifiers():
            self.open_selected_block()
        elif key == Qt.Key.Key_Up and ev.modifiers() == Qt.KeyboardModifier.AltModifier:
            self.go_up()
        elif key == Qt.Key.Key_F and not ev.modifiers():
            self.fit()
        elif key == Qt.Key.Key_Backspace:
            self.backspace()
        elif key == Qt.Key.Key_Delete:
            self.delete_selected()
        elif key == Qt.Key.Key_D and ev.modifiers() == Qt.KeyboardModifier.ControlModifier:
            self.duplicate()
        elif key == Qt.Key.Key_G and ev.modifiers() == Qt.KeyboardModifier.ControlModifier:
            self.make_block()
        elif key == Qt.Key.Key_G and ev.modifiers() == (Qt.KeyboardModifier.ControlModifier
                                                        | Qt.KeyboardModifier.ShiftModifier):
            self.ungroup_block()
        else:
            for seq, fn in ((QKeySequence.StandardKey.Copy, self.copy),
                            (QKeySequence.StandardKey.Paste, self.paste),
                            (QKeySequence.StandardKey.Cut, self.cut),
                            (QKeySequence.StandardKey.SelectAll, self.select_all),
                            (QKeySequence.StandardKey.Undo, self._stack.undo),
                            (QKeySequence.StandardKey.Redo, self._stack.redo)):
                if ev.matches(seq):
                    if seq in (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo) \
                            and self._locked:
                        return
                    fn()
                    return
            super().keyPressEvent(ev)

    def keyReleaseEvent(self, ev) -> None:
        if ev.key() == Qt.Key.Key_Space and not ev.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
        super().keyReleaseEvent(ev)

    # -- drag and drop from the palette --------------------------------------------------------------
    def dragEnterEvent(self, ev) -> None:
        mime = ev.mimeData()
        if (mime.hasFormat(LAYER_MIME) or mime.hasFormat(BLOCK_MIME)) and not self._locked \
                and self._model is not None:
            ev.acceptProposedAction()
        else:
            ev.ignore()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, ev) -> None:
        if ev.mimeData().hasFormat(BLOCK_MIME):  # a saved block from "My blocks": the file's path
            path = bytes(ev.mimeData().data(BLOCK_MIME)).decode("utf-8", "replace").strip()
            wire = next((w for w in self.items(ev.position().toPoint()) if isinstance(w, WireItem)), None)
            if self.add_library_block(path, self.mapToScene(ev.position().toPoint()),
                                      wire.eid if wire is not None else None):
                ev.acceptProposedAction()
            return
        layer = bytes(ev.mimeData().data(LAYER_MIME)).decode("utf-8", "replace").strip()
        if layer not in LAYERS:
            self.status_message.emit(f"Unknown layer type {layer!r}")
            ev.ignore()
            return
        at = self.mapToScene(ev.position().toPoint())
        wire = next((w for w in self.items(ev.position().toPoint()) if isinstance(w, WireItem)), None)
        s = LAYERS[layer]
        if wire is not None and s.inputs and s.outputs and self._editable():
            # dropped on a wire: the new layer splits it (one step)
            nid = self.insert_layer_on_wire(wire.eid, layer, at)
        else:
            nid = self.add_layer(layer, at)
        if nid:
            self.select_nodes([nid])
            ev.acceptProposedAction()


def _with_modifiers(ev, mods):
    return QMouseEvent(ev.type(), ev.position(), ev.scenePosition(), ev.globalPosition(),
                       ev.button(), ev.buttons(), mods)
