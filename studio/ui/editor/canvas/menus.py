"""Right-click menus: on a node (delete, duplicate, fixes, block actions), on a wire
(delete, insert a layer), and on empty canvas (add layer, paste, auto-layout, fit)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from studio.graph.blocks import group_problem

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
        _block_actions(menu, view, editable)
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


def _block_actions(menu: QMenu, view: "CanvasView", editable: bool) -> None:
    """Make block (the selection), and for one selected block: ungroup, repeat, save to library."""
    menu.setToolTipsVisible(True)  # a disabled Repeat… says why
    a = menu.addAction("Make block", view.make_block)
    a.setShortcut(QKeySequence("Ctrl+G"))
    why = group_problem(view.model(), view.selected_nodes())
    a.setEnabled(editable and view.can_make_block() and why is None)
    a.setToolTip(why or "Make one block of the selected layers")
    blk = view.selected_block()
    if blk is not None:
        a = menu.addAction("Ungroup block", view.ungroup_block)
        a.setShortcut(QKeySequence("Ctrl+Shift+G"))
        a.setEnabled(editable)
        why = view.repeat_problem(blk)
        a = menu.addAction("Repeat…", view.repeat_block)
        a.setEnabled(editable and why is None)
        a.setToolTip(why or "Run the block several times in a row, each copy with its own weights")
        menu.addAction("Save block to library…", view.save_block_to_library)
    menu.addSeparator()


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
