"""Menus, toolbar and shortcuts of the main window.

Kept apart from main_window.py so the window file stays about behaviour.
Every action is an attribute of `Actions`; `structural` lists those that
change the graph, which are disabled while training locks editing.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QSize, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

import shiboken6

from studio.ui.style import icons


class Actions(QObject):
    """A QObject child of the window, so Qt disconnects its slots when it goes:
    lambdas on the undo stack's signals outlived the window and raised
    "already deleted" when the stack emitted while being destroyed."""

    def __init__(self, w) -> None:
        super().__init__(w)
        self.w = w
        self._icons: dict[QAction, str] = {}
        self._slots: dict[QAction, object] = {}
        K = QKeySequence.StandardKey
        c = w.canvas
        self.new = self._act("&New", w.new_project, "new", K.New, "Start an empty project")
        self.open = self._act("&Open…", w.open_dialog, "open", K.Open, "Open a project file")
        self.open_sample = self._act("Open &Sample…", w.open_sample, "samples", None,
                                     "Start from a ready-made network")
        self.import_model = self._act("&Import Model…", w.import_model, "", None,
                                      "Import a torchvision architecture, your own PyTorch module or ONNX")
        self.save = self._act("&Save", w.save, "save", K.Save, "Save the project")
        self.save_as = self._act("Save &As…", w.save_as, "", QKeySequence("Ctrl+Shift+S"))
        self.quit = self._act("&Quit", w.close, "", QKeySequence("Ctrl+Q"))
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)

        self.undo = self._act("&Undo", w.undo_stack.undo, "undo", K.Undo, "Undo the last edit")
        self.redo = self._act("&Redo", w.undo_stack.redo, "redo",
                              [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")], "Redo")
        self.cut = self._act("Cu&t", c.cut, "cut", K.Cut)
        self.copy = self._act("&Copy", c.copy, "copy", K.Copy)
        self.paste = self._act("&Paste", c.paste, "paste", K.Paste)
        self.duplicate = self._act("&Duplicate", c.duplicate, "duplicate", QKeySequence("Ctrl+D"))
        self.delete = self._act("De&lete", c.delete_selected, "delete",
                                [QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Backspace)])
        self.select_all = self._act("Select &All", c.select_all, "", K.SelectAll)
        self.make_block = self._act("Make &Block", c.make_block, "", QKeySequence("Ctrl+G"),
                                    "Make one block of the selected layers")
        self.ungroup = self._act("U&ngroup Block", c.ungroup_block, "", QKeySequence("Ctrl+Shift+G"),
                                 "Put the selected block's layers in its place")

        self.fit = self._act("Zoom to &Fit", c.fit, "fit", QKeySequence(Qt.Key.Key_F),
                             "Fit the whole network in view (F)")
        self.layout = self._act("Auto-&layout", c.auto_layout, "layout", QKeySequence("Ctrl+L"),
                                "Arrange the layers left to right (Ctrl+L)")
        self.dark = self._act("&Dark Theme", w.set_dark, "theme", None, "Switch between light and dark")
        self.getting_started = self._act("&Getting Started", w.show_getting_started, "", None,
                                         "Five steps from an empty canvas to an exported model")
        self.about = self._act("&About Studio", w.show_about, "", None, "Versions of Studio, PyTorch, Qt and the device")
        self.shortcuts = self._act("&Keyboard and Mouse", w.show_shortcuts, "", QKeySequence("F1"))

        # Editing shortcuts must not steal keys from the inspector's text fields:
        # they only fire while the canvas (or the window itself) has focus.
        for a in (self.cut, self.copy, self.paste, self.delete, self.select_all, self.fit, self.duplicate,
                  self.make_block, self.ungroup):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            c.addAction(a)

        self.structural = [self.new, self.open, self.open_sample, self.import_model, self.undo, self.redo, self.cut,
                           self.paste, self.duplicate, self.delete, self.layout, self.make_block, self.ungroup]
        for signal in (w.undo_stack.canUndoChanged, w.undo_stack.canRedoChanged,
                       w.undo_stack.undoTextChanged, w.undo_stack.redoTextChanged):
            signal.connect(self.update_undo)
        self.locked = False
        self.update_undo()
        c.selection_changed.connect(self.update_blocks)
        w.undo_stack.indexChanged.connect(self.update_blocks)
        self.update_blocks()

    def _act(self, text, slot, icon_name="", shortcut=None, tip="") -> QAction:
        a = QAction(text, self.w)
        if icon_name:
            a.setIcon(icons.icon(icon_name))
            self._icons[a] = icon_name
        if shortcut is not None:
            if isinstance(shortcut, list):
                a.setShortcuts(shortcut)
            else:
                a.setShortcut(shortcut)
        if tip:
            keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            a.setToolTip(f"{tip} ({keys})" if keys and "(" not in tip else tip)
            a.setStatusTip(tip)
        if slot == self.w.set_dark:
            a.setCheckable(True)
            a.toggled.connect(slot)
        else:
            self._slots[a] = slot
            a.triggered.connect(self._triggered)
        return a

    @Slot()
    def _triggered(self) -> None:
        """Every plain action: calls its slot without `triggered`'s checked flag."""
        slot = self._slots.get(self.sender())
        if slot is not None:
            slot()

    def refresh_icons(self) -> None:
        for a, name in self._icons.items():
            a.setIcon(icons.icon(name))

    @Slot()
    def update_undo(self) -> None:
        s = self.w.undo_stack
        if not (shiboken6.isValid(s) and shiboken6.isValid(self.undo)):  # the window is going
            return
        self.undo.setEnabled(s.canUndo() and not self.locked)
        self.redo.setEnabled(s.canRedo() and not self.locked)
        self.undo.setText(f"&Undo {s.undoText()}".rstrip())
        self.redo.setText(f"&Redo {s.redoText()}".rstrip())

    @Slot()
    def update_blocks(self) -> None:
        """Make Block needs a selection, Ungroup Block one selected block."""
        c = self.w.canvas
        if not (shiboken6.isValid(c) and shiboken6.isValid(self.make_block)):
            return
        self.make_block.setEnabled(c.can_make_block())
        self.ungroup.setEnabled(c.can_ungroup())

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        for a in self.structural:
            a.setEnabled(not locked)
        self.update_undo()
        self.update_blocks()

    # -- menus and toolbar -------------------------------------------------------------
    def build_menus(self) -> None:
        w = self.w
        bar = w.menuBar()
        file = bar.addMenu("&File")
        for a in (self.new, self.open, self.open_sample, self.import_model):
            file.addAction(a)
        w.menu_recent = QMenu("Open &Recent", w)
        w.menu_recent.aboutToShow.connect(w.fill_recent_menu)
        file.addMenu(w.menu_recent)
        file.addSeparator()
        file.addAction(self.save)
        file.addAction(self.save_as)
        file.addSeparator()
        w.menu_export = QMenu("&Export", w)
        w.menu_export.setIcon(icons.icon("export"))
        self._icons[w.menu_export.menuAction()] = "export"
        file.addMenu(w.menu_export)
        file.addSeparator()
        file.addAction(self.quit)

        edit = bar.addMenu("&Edit")
        for a in (self.undo, self.redo, None, self.cut, self.copy, self.paste, self.duplicate,
                  self.delete, None, self.make_block, self.ungroup, None, self.select_all):
            edit.addAction(a) if a else edit.addSeparator()
        w.menu_edit = edit

        view = bar.addMenu("&View")
        view.addAction(self.fit)
        view.addAction(self.layout)
        view.addSeparator()
        view.addAction(self.dark)
        view.addSeparator()
        w.menu_view = view
        w.menu_file = file
        help_ = bar.addMenu("&Help")
        help_.addAction(self.getting_started)
        help_.addAction(self.shortcuts)
        help_.addSeparator()
        help_.addAction(self.about)
        w.menu_help = help_

    def build_toolbar(self) -> QToolBar:
        w = self.w
        tb = QToolBar("Main toolbar", w)
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for a in (self.new, self.open, self.save, None, self.undo, self.redo, None,
                  self.fit, self.layout, None, self.open_sample):
            tb.addAction(a) if a else tb.addSeparator()
        w.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        return tb
