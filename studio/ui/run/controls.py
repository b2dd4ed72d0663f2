"""The run panel's top row: Train / Pause / Stop, the progress bar, the speed
and the last validation metric."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton


def build_controls(panel) -> QHBoxLayout:
    """Create the panel's actions and status widgets (as attributes of `panel`,
    connected to its slots) and return the row that holds them."""
    panel.train_action = QAction("Train", panel)
    panel.train_action.setShortcut("Ctrl+T")
    panel.train_action.setToolTip("Train the network (Ctrl+T)")
    panel.pause_action = QAction("Pause", panel)
    panel.pause_action.setCheckable(True)
    panel.stop_action = QAction("Stop", panel)
    panel._refresh_icons()
    panel.train_action.triggered.connect(panel.train)
    panel.pause_action.toggled.connect(panel._on_pause_toggled)
    panel.stop_action.triggered.connect(panel.stop)

    def button(action):
        b = QToolButton()
        b.setDefaultAction(action)
        b.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        return b

    panel.progress = QProgressBar()
    panel.progress.setRange(0, 1000)
    panel.progress.setTextVisible(True)
    panel.progress.setFormat("Idle")
    panel.progress.setMinimumWidth(150)
    panel.speed_label = QLabel()
    panel.speed_label.setProperty("role", "muted")
    # Room for the widest figure up front: a label that grows would re-lay the row.
    panel.speed_label.setMinimumWidth(panel.fontMetrics().horizontalAdvance("999,999 examples/s") + 4)
    panel.val_label = QLabel()
    panel.val_label.setProperty("role", "stat")
    panel.val_label.setToolTip("Validation metric of the last epoch")
    top = QHBoxLayout()
    top.setSpacing(6)
    for a in (panel.train_action, panel.pause_action, panel.stop_action):
        top.addWidget(button(a))
    top.addWidget(panel.progress, 1)
    top.addWidget(panel.speed_label)
    top.addSpacing(8)
    top.addWidget(panel.val_label)
    return top
