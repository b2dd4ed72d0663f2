"""The layer palette: every layer in the catalogue, grouped by category, and the
user's saved blocks ("My blocks", palette_blocks.py), with a search box. Drag a
layer onto the canvas, or double-click (or press Enter) to add it at the centre
of the view."""
from __future__ import annotations

import html

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from studio.graph.layers import by_category

from studio.ui.style import icons

from studio.ui.style import theme

from studio.ui.editor.canvas import LAYER_MIME
from studio.ui.editor.palette_blocks import LIBRARY_ROLE, MyBlocks
from studio.ui.editor.user_blocks import BLOCK_MIME

TYPE_ROLE = Qt.ItemDataRole.UserRole
CATEGORY_ROLE = Qt.ItemDataRole.UserRole + 1


class LayerTree(QTreeWidget):
    """Tree whose drags carry LAYER_MIME with the layer type as UTF-8 text, or
    BLOCK_MIME with a saved block's file path."""

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME, BLOCK_MIME]

    def mimeData(self, items) -> QMimeData:
        data = QMimeData()
        saved = [it.data(0, LIBRARY_ROLE) for it in items if it.data(0, LIBRARY_ROLE)]
        if saved:
            data.setData(BLOCK_MIME, saved[0].encode("utf-8"))
            return data
        types = [it.data(0, TYPE_ROLE) for it in items if it.data(0, TYPE_ROLE)]
        if types:
            data.setData(LAYER_MIME, types[0].encode("utf-8"))
            data.setText(types[0])
        return data

    def supportedDropActions(self):
        return Qt.DropAction.CopyAction


class Palette(QWidget):
    layer_activated = Signal(str)  # double-click / Enter: add this layer type
    block_activated = Signal(str)  # the same on a saved block: its file path

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.setProperty("role", "field")
        self.search.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(self.set_filter)
        self.search.returnPressed.connect(self._activate_first_visible)

        self.tree = LayerTree()
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(6)
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(QSize(18, 18))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemDoubleClicked.connect(self._activated)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._home: dict[str, int] = {}
        self._rank: dict[str, tuple[int, int]] = {}
        self._populate()
        self.my_blocks.activated.connect(self.block_activated)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 4, 4)
        lay.setSpacing(6)
        lay.addWidget(self.search)
        lay.addWidget(self.tree)

    def _populate(self) -> None:
        head_font = QFont(self.font())
        head_font.setBold(True)
        head_font.setPointSizeF(max(7.0, head_font.pointSizeF() - 1.5))
        head_font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
        for category, specs in by_category().items():
            if not specs:
                continue
            head = QTreeWidgetItem([category.upper()])
            head.setData(0, CATEGORY_ROLE, category)
            head.setFont(0, head_font)
            head.setForeground(0, QColor(theme.colors().muted))
            head.setSizeHint(0, QSize(0, 30))
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a header: not selectable or draggable
            self.tree.addTopLevelItem(head)
            for s in specs:
                item = QTreeWidgetItem([s.title])
                item.setData(0, TYPE_ROLE, s.type)
                item.setIcon(0, icons.layer_icon(s))
                item.setToolTip(0, f"<b>{html.escape(s.title)}</b><br>{html.escape(s.description, quote=False)}"
                                   "<br><i>Drag onto the canvas, or double-click to add.</i>")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                head.addChild(item)
                self._home[s.type] = len(self._home)  # catalogue order, restored after a search
                self._items[s.type] = item
        self.my_blocks = MyBlocks(self.tree, head_font)
        self.tree.expandAll()

    def refresh_icons(self) -> None:
        """Re-tint icons after a theme change."""
        from studio.graph.layers import spec
        for i in range(self.tree.topLevelItemCount()):
            self.tree.topLevelItem(i).setForeground(0, QColor(theme.colors().muted))
        self.my_blocks.refresh()
        for type_, item in self._items.items():
            item.setIcon(0, icons.layer_icon(spec(type_)))
        self.search.actions()[0].setIcon(icons.icon("search"))

    # -- queries used by tests --------------------------------------------------------
    def item_for(self, layer_type: str) -> QTreeWidgetItem:
        return self._items[layer_type]

    def visible_types(self) -> list[str]:
        """Shown layers in display order: with a search, best match first."""
        shown = [t for t, it in self._items.items() if not it.isHidden() and not it.parent().isHidden()]
        return sorted(shown, key=lambda t: self._rank.get(t, (0, 0)))

    # -- behaviour --------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show matching layers, best first: a name match beats a category match, so
        "output" ranks Output above Input (both in "Input / Output")."""
        words = text.lower().split()
        self._rank = {}
        order = 0
        self.my_blocks.filter(words)
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            if head is self.my_blocks.head:
                continue
            children = [head.takeChild(0) for _ in range(head.childCount())]
            scored = []
            for j, item in enumerate(children):
                name = f"{item.text(0)} {item.data(0, TYPE_ROLE)}".lower()
                hay = f"{name} {head.data(0, CATEGORY_ROLE)}".lower()
                shown = all(w in hay for w in words)
                score = (0 if all(name.startswith(w) or f" {w}" in name for w in words) else
                         1 if all(w in name for w in words) else 2) if words else 0
                scored.append((score, self._home[item.data(0, TYPE_ROLE)], item, shown))
            scored.sort(key=lambda x: (x[0], x[1]) if words else x[1])
            any_shown = False
            for score, _home, item, shown in scored:
                head.addChild(item)
                item.setHidden(not shown)
                any_shown |= shown
                if shown:
                    self._rank[item.data(0, TYPE_ROLE)] = (score, order)
                    order += 1
            head.setHidden(not any_shown)
        best = self.visible_types()
        if words and best:
            self.tree.setCurrentItem(self._items[best[0]])

    def _activated(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        t = item.data(0, TYPE_ROLE)
        if t:
            self.layer_activated.emit(t)
        elif item.data(0, LIBRARY_ROLE):
            self.block_activated.emit(item.data(0, LIBRARY_ROLE))

    def _context_menu(self, pos) -> None:
        self.my_blocks.show_menu(self.tree.itemAt(pos), self.tree.viewport().mapToGlobal(pos))

    def _activate_first_visible(self) -> None:
        visible = self.visible_types()
        if visible and self.search.text().strip():
            self.layer_activated.emit(visible[0])
