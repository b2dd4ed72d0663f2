"""The inspector's Activations section: the selected layer's full output view
(feature-map grid, T×F heat map or bar strip) for one of the fixed probe
examples, from the latest snapshot: redrawn when a new one arrives (each epoch
end while training) and on demand from the current weights when idle.

The editor knows nothing of training: the run panel hands the inspector a feed
(studio.ui.run.inspector_feed) with this small interface:
  changed            a Signal() fired when the snapshot changes or goes stale
  examples() -> int  how many probe examples the snapshot holds
  look(node, i, max_w, max_h, chooser) -> Look | str   the drawing, or why there is none
  refresh() -> str | None   a new snapshot from the current weights; the reason if not
  is_attention(node) -> bool   an attention layer: the chooser picks its attention map or output
  want_attention(asker, node | None), forget(asker)   which node's attention map is shown
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

from PySide6.QtCore import QEvent, QSize, Qt, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from studio.ui.editor.attention_chooser import AttentionChooser

MAX_HEIGHT = 320   # a feature-map grid as wide as the inspector, but no taller than this
INPUT_PX = 48


class Look(NamedTuple):
    picture: QPixmap
    caption: str               # what it shows and when it was taken
    example: QPixmap | None    # the probe example itself, when it is an image


class ActivationsSection(QWidget):
    """A collapsible header and, under it, the node's output view."""

    def __init__(self, feed, node: str, expanded: bool, locked: bool, on_toggle=None, parent=None):
        super().__init__(parent)
        self.feed, self.node, self.on_toggle = feed, node, on_toggle
        self.header = QToolButton()
        self.header.setText("ACTIVATIONS")
        self.header.setProperty("role", "section")
        self.header.setCheckable(True)
        self.header.setChecked(expanded)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setToolTip("What this layer outputs for a few fixed validation examples")
        self.header.setIconSize(QSize(9, 9))
        self.body = QWidget()
        self.picture = QLabel()
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.caption = QLabel()
        self.caption.setProperty("role", "caption")
        self.caption.setWordWrap(True)
        self.example = QComboBox()
        self.example.setToolTip("One of the fixed validation examples")
        self.input = QLabel()
        self.input.setFixedSize(INPUT_PX, INPUT_PX)
        self.input.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.refresh = QPushButton("Refresh from current weights")
        self.refresh.setEnabled(not locked)
        self.refresh.setToolTip("While training, this view updates after each epoch" if locked else
                                "Run the probe examples through the network as it is now")
        self.chooser = AttentionChooser(narrow=True)  # for attention layers only
        self.chooser.hide()
        self.example_row = QWidget()
        row = QHBoxLayout(self.example_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Example"))
        row.addWidget(self.example)
        row.addWidget(self.input)
        row.addStretch(1)
        b = QVBoxLayout(self.body)
        b.setContentsMargins(0, 2, 0, 0)
        b.setSpacing(4)
        b.addWidget(self.example_row)
        b.addWidget(self.chooser)
        b.addWidget(self.picture)
        b.addWidget(self.caption)
        b.addWidget(self.refresh, 0, Qt.AlignmentFlag.AlignLeft)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(self.header, 0, Qt.AlignmentFlag.AlignLeft)
        v.addWidget(self.body)
        self._width = 0
        self.header.toggled.connect(self._toggled)
        self.example.currentIndexChanged.connect(self.redraw)
        self.refresh.clicked.connect(self.refresh_now)
        self.chooser.changed.connect(self.redraw)
        feed.changed.connect(self.redraw)
        if hasattr(feed, "forget"):  # this section gone: its node's maps are no longer wanted
            self.destroyed.connect(partial(feed.forget, id(self)))
        self._toggled(expanded)

    @Slot(bool)
    def _toggled(self, on: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.body.setVisible(on)
        self.redraw()  # collapsed: says so to the feed, draws nothing
        if self.on_toggle is not None:
            self.on_toggle(on)

    @Slot()
    def refresh_now(self) -> bool:
        problem = self.feed.refresh()
        self.redraw()
        if problem:
            self.caption.setText(problem)
        return problem is None

    @Slot()
    def redraw(self) -> None:
        attention = hasattr(self.feed, "is_attention")
        if attention:
            shown = self.header.isChecked() and self.chooser.choice().attention
            self.feed.want_attention(id(self), self.node if shown else None)
        if not self.header.isChecked():
            return
        n = self.feed.examples()
        if self.example.count() != n:
            keep = max(0, self.example.currentIndex())
            self.example.blockSignals(True)
            self.example.clear()
            self.example.addItems([f"#{i + 1}" for i in range(n)])
            self.example.setCurrentIndex(min(keep, n - 1))
            self.example.blockSignals(False)
        width = max(120, self.body.width() if self.body.width() > 0 else 240)
        self.chooser.setVisible(attention and self.feed.is_attention(self.node))
        i = max(0, self.example.currentIndex())
        look = (self.feed.look(self.node, i, width, MAX_HEIGHT, self.chooser) if attention else
                self.feed.look(self.node, i, width, MAX_HEIGHT))
        self.example_row.setVisible(n > 0 and not isinstance(look, str))
        if isinstance(look, str):
            self.picture.clear()
            self.picture.hide()
            self.input.clear()
            self.caption.setText(look)
            return
        self.picture.setPixmap(look.picture)
        self.picture.show()
        self.caption.setText(look.caption)
        if look.example is not None:
            self.input.setPixmap(look.example)
        else:
            self.input.clear()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a theme switch: redrawn in its colours
            self.redraw()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.body.width() != self._width:  # fit the picture to the new width
            self._width = self.body.width()
            self.redraw()
