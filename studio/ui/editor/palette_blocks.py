"""The palette's "My blocks" section: the blocks saved in the user's library.

Each entry shows the block's name and how many layers it holds; drag it onto the
canvas or double-click it to add it, right-click to rename or delete it. A file
in the library folder that cannot be read is listed as skipped (with why in its
tooltip), never loaded and never fatal.
"""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QPoint, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu, QMessageBox, QTreeWidget, QTreeWidgetItem

from studio.graph.layers import spec
from studio.project.block_library import LibraryBlock, LibraryError, Skipped

from studio.ui.editor import user_blocks
from studio.ui.style import icons, theme

LIBRARY_ROLE = Qt.ItemDataRole.UserRole + 2  # a saved block's file path
TITLE = "My blocks"
EMPTY_HINT = "No saved blocks yet"
EMPTY_TIP = "Right-click a block on the canvas ▸ Save block to library… to keep it here for any project."


class MyBlocks(QObject):
    activated = Signal(str)  # add this saved block (its path)

    def __init__(self, tree: QTreeWidget, head_font: QFont) -> None:
        super().__init__(tree)
        self.tree = tree
        self.head = QTreeWidgetItem([TITLE.upper()])
        self.head.setFont(0, head_font)
        self.head.setSizeHint(0, QSize(0, 30))
        self.head.setFlags(Qt.ItemFlag.ItemIsEnabled)
        tree.addTopLevelItem(self.head)
        self.blocks: list[LibraryBlock] = []
        self.skipped: list[Skipped] = []
        self._words: list[str] = []
        self.menu: QMenu | None = None  # the open right-click menu, for tests
        # Saves, renames and deletes by another Studio window or process show up too.
        self.watcher = QFileSystemWatcher(self)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(250)  # one re-read for a burst of file events (an atomic save is several)
        self._later.timeout.connect(self._folder_changed)
        self.watcher.directoryChanged.connect(self._later.start)
        self.refresh()
        user_blocks.notifier().changed.connect(self.refresh)
        user_blocks.notifier().saved.connect(self.reveal)

    # -- listing --------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Read the library folder again and list what is there."""
        self.head.takeChildren()
        self.head.setForeground(0, QColor(theme.colors().muted))
        library = user_blocks.library()
        self.blocks, self.skipped = library.entries()
        root = str(library.root)
        if root not in self.watcher.directories() and library.root.is_dir():
            if self.watcher.directories():
                self.watcher.removePaths(self.watcher.directories())
            self.watcher.addPath(root)
        icon = icons.layer_icon(spec("Block"))
        for b in self.blocks:
            n = b.layers
            item = QTreeWidgetItem([f"{b.name}  ·  {n} layer{'s' * (n != 1)}"])
            item.setData(0, LIBRARY_ROLE, str(b.path))
            item.setIcon(0, icon)
            rep = b.params["repeat"]
            item.setToolTip(0, f"<b>{html.escape(b.name)}</b> — a saved block of {n} layer{'s' * (n != 1)}"
                               + (f", repeated ×{rep}" if rep > 1 else "")
                               + "<br><i>Drag onto the canvas, or double-click to add. "
                               "Right-click to rename or delete.</i>")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            self.head.addChild(item)
        if not self.blocks:
            hint = QTreeWidgetItem([EMPTY_HINT])
            hint.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable or draggable; its tooltip shows
            hint.setToolTip(0, EMPTY_TIP)
            hint.setForeground(0, QColor(theme.colors().muted))
            self.head.addChild(hint)
        if self.skipped:
            n = len(self.skipped)
            bad = QTreeWidgetItem([f"{n} file{'s' * (n != 1)} skipped"])
            bad.setIcon(0, icons.icon("warning"))
            bad.setFlags(Qt.ItemFlag.ItemIsEnabled)
            bad.setForeground(0, QColor(theme.colors().muted))
            bad.setToolTip(0, "These files in your block library cannot be read:<br>" + "<br>".join(
                html.escape(s.reason) for s in self.skipped))
            self.head.addChild(bad)
        self.head.setExpanded(True)
        self.filter(self._words)

    @Slot()
    def _folder_changed(self) -> None:
        """Re-read the folder, keeping the entry that was selected."""
        current = self.tree.currentItem()
        path = current.data(0, LIBRARY_ROLE) if current is not None else None
        self.refresh()
        if path is not None:
            item = next((self.head.child(i) for i in range(self.head.childCount())
                         if self.head.child(i).data(0, LIBRARY_ROLE) == path), None)
            if item is not None:
                self.tree.setCurrentItem(item)

    @Slot(str)
    def reveal(self, path: str) -> None:
        """List the library again and scroll to the block just saved at `path`, selected."""
        self.refresh()
        item = next((self.head.child(i) for i in range(self.head.childCount())
                     if self.head.child(i).data(0, LIBRARY_ROLE) == path), None)
        if item is not None and not item.isHidden():
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)

    def filter(self, words: list[str]) -> None:
        """Show the saved blocks whose name matches every word (the section too, with a search)."""
        self._words = words
        shown = 0
        for i in range(self.head.childCount()):
            item = self.head.child(i)
            hit = all(w in item.text(0).lower() for w in words) and (
                not words or item.data(0, LIBRARY_ROLE) is not None)
            item.setHidden(not hit)
            shown += hit
        self.head.setHidden(bool(words) and not shown)

    def names(self) -> list[str]:
        """The saved blocks listed, by name (for tests)."""
        return [b.name for b in self.blocks]

    def item_for(self, name: str) -> QTreeWidgetItem:
        path = str(next(b.path for b in self.blocks if b.name == name))
        return next(self.head.child(i) for i in range(self.head.childCount())
                    if self.head.child(i).data(0, LIBRARY_ROLE) == path)

    # -- right-click menu -------------------------------------------------------------------
    def show_menu(self, item: QTreeWidgetItem, global_pos: QPoint) -> QMenu | None:
        path = item.data(0, LIBRARY_ROLE) if item is not None else None
        if path is None:
            return None
        name = next((b.name for b in self.blocks if str(b.path) == path), "")
        menu = QMenu(self.tree)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Add to canvas", lambda: self.activated.emit(path))
        menu.addSeparator()
        menu.addAction("Rename…", lambda: self.rename(path, name))
        menu.addAction("Delete…", lambda: self.delete(path, name))
        menu.popup(global_pos)
        self.menu = menu
        return menu

    def rename(self, path: str, name: str, new: str | None = None) -> None:
        new = new if new is not None else self.ask_new_name(name)
        if not new or not new.strip() or new.strip() == name:
            return
        try:
            user_blocks.library().rename(path, new.strip())
        except LibraryError as e:
            self._error("Cannot rename the block", str(e))
        user_blocks.notifier().changed.emit()

    def delete(self, path: str, name: str) -> None:
        if not self.ask_delete(name):
            return
        try:
            user_blocks.library().delete(Path(path))
        except LibraryError as e:
            self._error("Cannot delete the block", str(e))
        user_blocks.notifier().changed.emit()

    # -- questions (tests replace these) -------------------------------------------------------
    def ask_new_name(self, name: str) -> str | None:
        dlg = QInputDialog(self.tree)
        dlg.setWindowTitle("Rename saved block")
        dlg.setLabelText("New name:")
        dlg.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dlg.setTextValue(name)
        return dlg.textValue() if dlg.exec() else None

    def ask_delete(self, name: str) -> bool:
        B = QMessageBox.StandardButton
        return QMessageBox.question(self.tree, "Delete saved block",
                                    f"Delete {name} from My blocks? This cannot be undone.",
                                    B.Yes | B.No, B.No) == B.Yes

    def _error(self, title: str, text: str) -> None:
        QMessageBox.warning(self.tree, title, text)
