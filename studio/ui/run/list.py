"""The project's runs, each with its colour and a checkbox to show or hide its curves."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from studio.ui.run.history import RunRecord


def colour_icon(colour: str, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(colour))
    return QIcon(pm)


class RunList(QListWidget):
    """The project's runs with a checkbox each to show or hide its curves."""

    visibility_changed = Signal(int, bool)
    run_selected = Signal(int)      # the run number the user clicked (File ▸ Export uses its weights)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setIconSize(QSize(12, 12))
        self.setToolTip("Runs of this project. Untick a run to hide its curves.")
        self.itemChanged.connect(self._on_item_changed)
        self.currentItemChanged.connect(self._on_current_changed)

    def set_runs(self, runs: list[RunRecord]) -> None:
        self.blockSignals(True)
        self.clear()
        for run in runs:
            self._add(run)
        self.blockSignals(False)

    def add_run(self, run: RunRecord) -> None:
        self.blockSignals(True)
        self._add(run)
        self.blockSignals(False)
        self.scrollToBottom()

    def _add(self, run: RunRecord) -> None:
        item = QListWidgetItem(colour_icon(run.colour), run.label())
        item.setToolTip(run.tooltip())
        item.setData(Qt.UserRole, run.number)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Checked if run.visible else Qt.Unchecked)
        self.addItem(item)

    def update_run(self, run: RunRecord) -> None:
        for i in range(self.count()):
            item = self.item(i)
            if item.data(Qt.UserRole) == run.number:
                self.blockSignals(True)
                item.setText(run.label())
                item.setToolTip(run.tooltip())
                self.blockSignals(False)

    def remove_run(self, number: int) -> None:
        for i in range(self.count()):
            if self.item(i).data(Qt.UserRole) == number:
                self.takeItem(i)
                return

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current_changed(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.run_selected.emit(int(item.data(Qt.UserRole)))

    @Slot(QListWidgetItem)
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self.visibility_changed.emit(int(item.data(Qt.UserRole)), item.checkState() == Qt.Checked)
