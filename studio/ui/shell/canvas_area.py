"""The window's centre: the breadcrumb bar above the canvas, and what follows the
level the canvas shows (the inspector edits that graph; the bar names it).
Dataset fit, training and the status bar keep using the project's top graph."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.ui.editor.canvas.breadcrumb import Breadcrumb


def canvas_area(window) -> QWidget:
    """A widget holding window.breadcrumb over window.canvas (both made here or before)."""
    area = QWidget(window)
    lay = QVBoxLayout(area)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    window.breadcrumb = Breadcrumb(area)
    lay.addWidget(window.breadcrumb)
    lay.addWidget(window.canvas, 1)
    window.block_levels = BlockLevels(window)
    return area


class BlockLevels(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        canvas = window.canvas
        canvas.level_changed.connect(self.level_changed)
        window.breadcrumb.level_clicked.connect(self.go_to)
        window.undo_stack.indexChanged.connect(self.refresh)  # a block renamed, added or removed
        window.breadcrumb.hide()

    def add_actions(self, actions) -> None:
        """Backspace deletes, or goes up when nothing is selected; View ▸ Up One Level."""
        canvas = self.w.canvas
        self.w.inspector.open_block.connect(self.open_block)  # the inspector exists by now
        actions.delete.setShortcuts([QKeySequence(Qt.Key.Key_Delete)])
        self.backspace = QAction("Delete or Go Up", self.w)
        self.backspace.setShortcut(QKeySequence(Qt.Key.Key_Backspace))
        self.backspace.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.backspace.triggered.connect(self._backspace)
        canvas.addAction(self.backspace)
        self.up = QAction("&Up One Level", self.w)
        self.up.setShortcut(QKeySequence("Alt+Up"))
        self.up.setStatusTip("Leave the block shown, back to the graph around it (Alt+Up, Esc)")
        self.up.triggered.connect(self._up)
        self.w.menu_view.insertAction(self.w.menu_view.actions()[2], self.up)
        self.refresh()

    @Slot()
    def _backspace(self) -> None:
        self.w.canvas.backspace()

    @Slot()
    def _up(self) -> None:
        self.w.canvas.go_up()

    @Slot(str)
    def open_block(self, nid: str) -> None:
        self.w.canvas.open_block(nid)
        self.w.canvas.setFocus()

    @Slot(int)
    def go_to(self, depth: int) -> None:
        self.w.canvas.go_to_level(depth)
        self.w.canvas.setFocus()  # Esc, Enter and the other canvas keys work at once

    @Slot()
    def level_changed(self) -> None:
        w, canvas = self.w, self.w.canvas
        if canvas.model() is not None:
            w.inspector.set_model(canvas.model(), w.undo_stack, push=canvas.push, problems=canvas.problems)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        canvas = self.w.canvas
        root = canvas.root_model()
        if root is None:
            return
        inside = canvas.depth() > 0
        self.w.breadcrumb.set_trail(canvas.nav.trail())
        self.w.breadcrumb.setVisible(inside or bool(root.of_type("Block")))
        if hasattr(self, "up"):
            self.up.setEnabled(inside)
