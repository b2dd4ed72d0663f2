"""The bar above the canvas that says which level is shown: "Network › layer1 ›
layer1_0". Each crumb but the last goes back to its level when clicked."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

HINT = "Esc or Alt+↑ goes up a level"


class Breadcrumb(QFrame):
    level_clicked = Signal(int)  # the depth to go back to (0: the top level)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self.setFixedHeight(30)  # the same with or without crumb buttons: the canvas does not jump
        self._lay = QHBoxLayout(self)
        self._lay.setContentsMargins(8, 2, 10, 2)
        self._lay.setSpacing(2)
        self._parts: list[QWidget] = []
        self.hint = QLabel(HINT)
        self.hint.setProperty("role", "caption")
        self._lay.addStretch(1)
        self._lay.addWidget(self.hint)
        self.labels: list[str] = []

    def set_trail(self, labels: list[str]) -> None:
        """Show `labels` (the top level first); the last is the level shown."""
        if labels == self.labels:
            return
        self.labels = list(labels)
        for w in self._parts:
            self._lay.removeWidget(w)
            w.hide()  # deleteLater waits for the event loop; meanwhile it would still show
            w.deleteLater()
        self._parts = []
        for depth, text in enumerate(labels):
            if depth:
                sep = QLabel("›")
                sep.setProperty("role", "muted")
                self._add(sep)
            if depth < len(labels) - 1:
                b = QToolButton()
                b.setText(text)
                b.setAutoRaise(True)
                b.setCursor(Qt.CursorShape.PointingHandCursor)
                b.setToolTip(f"Back to {text}")
                b.setObjectName(f"crumb_{depth}")
                b.clicked.connect(lambda _=False, d=depth: self.level_clicked.emit(d))
                self._add(b)
            else:
                here = QLabel(f"<b>{html.escape(text)}</b>")
                here.setTextFormat(Qt.TextFormat.RichText)
                here.setContentsMargins(5, 0, 0, 0)
                self._add(here)
        self.hint.setVisible(len(labels) > 1)

    def _add(self, w: QWidget) -> None:
        self._lay.insertWidget(len(self._parts), w)
        self._parts.append(w)

    def button(self, depth: int) -> QToolButton | None:
        return self.findChild(QToolButton, f"crumb_{depth}")
