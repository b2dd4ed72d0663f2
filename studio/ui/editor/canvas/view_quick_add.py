"""Quick-add on the canvas: the searchable layer popup opened by Tab, a
double-click, a wire dropped on empty canvas or a click on a wire, and what
happens when a layer is picked. A mixin of CanvasView."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Slot

from studio.graph.layers import spec
from studio.ui.editor.canvas.commands import add_and_connect
from studio.ui.editor.canvas.node_item import HEADER, WIDTH
from studio.ui.editor.canvas.quick_add import QuickAddPopup
from studio.ui.editor.canvas.theme import snap


class QuickAddMixin:
    def open_quick_add(self, scene_pos: QPointF, from_port: tuple | None = None) -> None:
        """Searchable layer menu at scene_pos; the chosen layer is added there and,
        with from_port (node, port[, direction]), wired to that port."""
        if not self._editable():
            return
        if from_port is not None and len(from_port) == 2:
            nid, port = from_port
            outs = spec(self._model.type_of(nid)).port_names("out")
            from_port = (nid, port, "out" if port in outs else "in")
        need = None if from_port is None else ("in" if from_port[2] == "out" else "out")
        # A wire dropped from an output: list only layers that take its shape.
        shape = self._model.shapes.out(from_port[0]) if from_port is not None and from_port[2] == "out" else None
        popup = self._new_popup(need, shape)
        popup.chosen.connect(lambda t: self._quick_added(t, scene_pos, from_port))
        popup.popup_at(self.viewport().mapToGlobal(self.mapFromScene(scene_pos)))

    def open_quick_add_on_wire(self, eid: str, scene_pos: QPointF) -> None:
        """Quick-add listing layers that can sit on a wire; the pick splits the wire."""
        if not self._editable():
            return
        popup = self._new_popup("both")
        popup.chosen.connect(lambda t: self.insert_layer_on_wire(eid, t))
        popup.popup_at(self.viewport().mapToGlobal(self.mapFromScene(scene_pos)))

    def quick_add_popup(self) -> QuickAddPopup | None:
        """The open quick-add popup, if any (tests and the main window's help use it)."""
        p = self._quick_add
        return p if p is not None and p.isVisible() else None

    def _new_popup(self, need: str | None, shape=None) -> QuickAddPopup:
        if self._quick_add is not None:
            self._quick_add.close()
            self._quick_add.deleteLater()
        inside = self.model() is not None and self.model().is_body
        self._quick_add = QuickAddPopup(self, need, self._scene.theme.dark, shape, inside)
        self._quick_add.closed.connect(self._take_focus_back)
        return self._quick_add

    @Slot()
    def _take_focus_back(self) -> None:
        """A closing popup leaves the window without a focus widget (and, under
        some window managers, inactive): every shortcut would be dead until a click."""
        self.window().activateWindow()
        self.setFocus(Qt.FocusReason.PopupFocusReason)

    def _quick_added(self, layer: str, at: QPointF, from_port) -> None:
        if self._model is None or self._locked or not self.placeable(layer):
            return
        if from_port is not None and from_port[0] not in self._model.g:
            from_port = None  # the node went away (undo) while the menu was open
        if from_port is None:
            self.add_layer(layer, at)
            return
        y = snap(at.y() - HEADER - 14)  # the new card's port lands near the cursor
        x = snap(at.x()) if from_port[2] == "out" else snap(at.x() - WIDTH)
        cmd, nid = add_and_connect(self._model, layer, (x, y), from_port)
        self.push(cmd)
        self.select_nodes([nid])
