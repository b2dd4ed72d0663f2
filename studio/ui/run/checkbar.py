"""The strip between the Train row and the tabs: the pre-run cost check, the
editing lock, and one message line: a run's error, a warning, or how the
network does not fit the dataset, with a one-click fix.

Its height is fixed and its labels are filled or emptied, never shown or
hidden while training: a layout change would resize the four plots, and
repainting them all at once is the longest GUI stall of a run.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from studio.ui.style import icons

LOCKED_TEXT = "Editing is locked while training"


class CheckBar(QWidget):
    fix_clicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.lock_icon = QLabel()
        self.lock_label = QLabel()
        self.lock_label.setProperty("role", "muted")
        self.check_label = QLabel()
        self.check_label.setProperty("role", "caption")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.message.setProperty("role", "error")
        self.fix_button = QPushButton()
        self.fix_button.setToolTip("Change the last layer so the network fits the dataset")
        self.fix_button.clicked.connect(self.fix_clicked)
        self.fix_button.hide()
        # A message longer than the fixed-height line: the whole text one click away.
        self.details_button = QPushButton("Details…")
        self.details_button.setFlat(True)
        self.details_button.setToolTip("Show the whole message")
        self.details_button.clicked.connect(self.show_details)
        self.details_button.hide()
        top = QHBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.check_label, 1)
        top.addWidget(self.lock_icon)
        top.addWidget(self.lock_label)
        bottom = QHBoxLayout()
        bottom.setSpacing(6)
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.details_button, 0, Qt.AlignTop)
        bottom.addWidget(self.fix_button, 0, Qt.AlignTop)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(1)
        v.addLayout(top)
        v.addLayout(bottom, 1)
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(max(3 * line + 8, line + self.fix_button.sizeHint().height() + 4))
        self._error = ""        # a run's failure or a refused Train: shown first
        self._mismatch = None   # datafit.Mismatch

    def set_locked(self, locked: bool) -> None:
        self.lock_label.setText(LOCKED_TEXT if locked else "")
        self.lock_icon.setPixmap(icons.icon("lock").pixmap(14, 14) if locked else QPixmap())
        self._render()

    def show_message(self, text: str) -> None:
        """A run's error or warning, in words (never a traceback: that goes to the log);
        empty text returns the line to the fit check."""
        self._error = text
        self._render()

    def overflows(self) -> bool:
        """True when the message needs more lines than the bar shows."""
        text = self.message.text()
        return bool(text) and self.message.heightForWidth(max(1, self.message.width())) > self.message.height()

    @Slot()
    def show_details(self) -> None:
        QMessageBox.information(self, "Message", self.message.text())

    def _update_details(self) -> None:
        over = self.overflows()
        self.message.setToolTip(self.message.text() if over else "")
        if over != self.details_button.isVisible():
            self.details_button.setVisible(over)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._update_details()

    def set_mismatch(self, mismatch) -> None:
        self._mismatch = mismatch
        self._render()

    @property
    def mismatch(self):
        return self._mismatch

    def _render(self) -> None:
        m = self._mismatch
        fix = m.fix_label if m is not None and not self._error and not self.lock_label.text() else ""
        if self._error:
            self.message.setText(self._error)
        else:
            self.message.setText(f"⚠ {m.text}" if m is not None else "")
        self.fix_button.setText(fix)
        self.fix_button.setVisible(bool(fix))  # idle only (no fix while locked): no plot relayout in a run
        self._update_details()
