"""Plugs the training panel into the main window: the bottom dock, the
Train/Pause/Stop toolbar actions, File ▸ Export, and a clean stop on close."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget

from . import run_gc
from .export_actions import ExportActions
from .run_panel import RunPanel


class _CloseGuard(QObject):
    """Watches the window's Close event: a run in flight is stopped and its
    thread joined first, so no QThread outlives its window (which aborts)."""

    def __init__(self, window, panel: RunPanel):
        super().__init__(window)
        self.panel = panel

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Close and self.panel.session.running:
            self.panel.shutdown()
        return False


def install(window) -> RunPanel:
    """Build the panel into the window's bottom dock and return it."""
    panel = RunPanel(window)
    dock = getattr(window, "run_dock", None)
    if isinstance(dock, QDockWidget):
        dock.setWidget(panel)
    else:
        dock = QDockWidget("Training", window)
        dock.setObjectName("run_dock")
        dock.setWidget(panel)
        window.addDockWidget(Qt.BottomDockWidgetArea, dock)
        window.run_dock = dock
    window.run_panel = panel

    toolbar = getattr(window, "toolbar", None)
    if toolbar is not None:
        toolbar.addSeparator()
        for action in (panel.train_action, panel.pause_action, panel.stop_action):
            toolbar.addAction(action)
    else:  # still reachable by shortcut
        window.addActions([panel.train_action, panel.pause_action, panel.stop_action])

    menu = getattr(window, "menu_export", None)
    if menu is not None:
        panel.export_actions = ExportActions(window, menu, panel)

    window.installEventFilter(_CloseGuard(window, panel))
    if hasattr(window, "project_replaced"):
        window.project_replaced.connect(panel.set_project_from_window)
    panel.set_project(window.project)
    run_gc.start_preload()
    # A taller dock than the window's default so four plots have room.
    if hasattr(window, "resizeDocks"):
        window.resizeDocks([dock], [380], Qt.Vertical)
    return panel
