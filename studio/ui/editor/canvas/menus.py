"""Right-click menus: on a node (delete, duplicate, fixes), on a wire (delete,
insert a layer), and on empty canvas (add layer, paste, auto-layout, fit)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu

from studio.ui.editor.canvas import clipboard
from studio.ui.editor.canvas.commands import Disconnect

if TYPE_CHECKING:
    from studio.ui.editor.canvas.view import CanvasView


def _owner(item):
    """The node or wire an item under the cursor belongs to."""
    from studio.ui.editor.canvas.node_item import NodeItem
    from studio.ui.editor.canvas.wire_item import WireItem
    while item is not None and not isinstance(item, (NodeItem, WireItem)):
        item = getattr(item, "wire", None) or item.parentItem()
    return item


def build_context_menu(view: "CanvasView", view_pos: QPoint) -> QMenu:
    from studio.ui.editor.canvas.node_item import NodeItem
    menu = QMenu(view)
    pos = view.mapToScene(view_pos)
    item = _owner(view.itemAt(view_pos))
    editable = view.model() is not None and not view.is_locked()
    if isinstance(item, NodeItem):
        if not item.isSelected():
            view.select_nodes([item.nid])
        for fix in item.fixes():
            a = menu.addAction(f"Fix: {fix.label}", lambda f=fix: view.apply_fix(f))
            a.setEnabled(editable)
        if item.fixes():
            menu.addSeparator()
        if item.type == "Block":
            menu.addAction("Open block", lambda nid=item.nid: view.open_block(nid))
            menu.addSeparator()
        n = len(view.selected_nodes())
        menu.addAction("Duplicate", view.duplicate).setEnabled(editable)
        menu.addAction("Copy", view.copy)
        menu.addAction("Cut", view.cut).setEnabled(editable)
        menu.addSeparator()
        menu.addAction(f"Delete {n} layers" if n > 1 else "Delete", view.delete_selected).setEnabled(editable)
    elif item is not None:  # a wire
        eid = item.eid
        model = view.model()
        menu.addAction("Insert layer…", lambda: view.open_quick_add_on_wire(eid, pos)).setEnabled(editable)
        menu.addAction("Delete wire", lambda: view.push(Disconnect(model, [eid]))).setEnabled(editable)
    else:
        menu.addAction("Add layer…", lambda: view.open_quick_add(pos)).setEnabled(editable)
        menu.addAction("Paste", view.paste).setEnabled(editable and clipboard.get() is not None)
        menu.addSeparator()
        menu.addAction("Select all", view.select_all)
        menu.addAction("Auto-layout", view.auto_layout).setEnabled(view.model() is not None)
        menu.addAction("Fit to view", view.fit)
        if view.depth():
            menu.addSeparator()
            menu.addAction(f"Up to {view.nav.trail()[-2]}", view.go_up)
    return menu


def show_context_menu(view: "CanvasView", view_pos: QPoint, global_pos: QPoint) -> None:
    build_context_menu(view, view_pos).exec(global_pos)


def show_fix_menu(view: "CanvasView", fixes, global_pos: QPoint) -> QMenu:
    """The badge's choice between cures (non-blocking; returned so tests can pick)."""
    menu = QMenu(view)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    for fix in fixes:
        menu.addAction(fix.label, lambda f=fix: view.apply_fix(f))
    menu.popup(global_pos)
    return menu
