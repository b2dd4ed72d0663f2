"""Plugs the training panel into the main window: the bottom dock, the
Train/Pause/Stop toolbar actions and File ▸ Export. Closing the window during
a run is the window's business (MainWindow.closeEvent asks, then shuts the
panel down)."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QDockWidget

from studio.graph.blocks import qualified

from studio.ui.run import gc as run_gc
from studio.ui.run.export_actions import ExportActions
from studio.ui.run.panel import RunPanel


RESULTS_SHARE = 0.6  # of the window's height, for the confusion matrix and samples


def grow_for_results(window, dock, panel, index: int) -> None:
    """Choosing Results in a ~300 px dock showed three rows of the confusion matrix:
    give the dock most of the window (the splitter still moves it back)."""
    if panel.tabs.tabText(index) != "Results" or dock.isFloating() or not dock.isVisible():
        return
    want = int(window.height() * RESULTS_SHARE)
    if dock.height() < want:
        window.resizeDocks([dock], [want], Qt.Orientation.Vertical)


class SelectionPaths(QObject):
    """The canvas's selection as module paths (a layer inside a block is "block.layer"),
    which is how probes and the insight views name layers."""
    paths = Signal(list)

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas
        canvas.selection_changed.connect(self._changed)

    @Slot(list)
    def _changed(self, ids: list) -> None:
        model = self.canvas.model()
        self.paths.emit([qualified(model, i) for i in ids if model is not None and i in model.g])


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
    panel.session.attention_wish = panel.activations.wish  # runs work out the attention maps shown
    canvas = getattr(window, "canvas", None)
    if canvas is not None:  # the embedding view follows the layer chosen on the canvas
        selection = SelectionPaths(canvas)
        panel.results.canvas_selection = selection.paths
        selection.paths.connect(panel.activations.follow_selection)

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

    panel.tabs.currentChanged.connect(lambda index: grow_for_results(window, dock, panel, index))

    if hasattr(window, "project_replaced"):
        window.project_replaced.connect(panel.set_project_from_window)
    panel.set_project(window.project)
    from studio.ui.sweep.install import install as install_sweep
    install_sweep(window, panel)  # the Sweep tab and the ⚲ search markers
    from studio.ui.run.card_previews import install as install_previews
    install_previews(window, panel)  # View ▸ Show activations on cards
    from studio.ui.run.inspector_feed import install as install_inspector_feed
    install_inspector_feed(window, panel)  # the inspector's Activations section
    run_gc.start_preload()
    return panel
