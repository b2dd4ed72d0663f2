"""The main window: palette (left), canvas (centre), inspector (right) and the
training dock (bottom), with the File/Edit/View menus and the document's
open/save/close life cycle.

For the run panel it exposes: `project`, `canvas`, `undo_stack`, `menu_export`,
`project_replaced`, `set_editing_locked(bool)` and `show_status(text, ms)`.
"""
from __future__ import annotations

import importlib
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow,
                               QMessageBox)

from studio.resources import resource_dir
from studio.graph.blocks import counts
from studio.graph.events import NodeMoved
from studio.project.file import Project, ProjectError

from studio.ui.style import icons

from studio.ui.style import theme
from studio.ui.editor.canvas import CanvasView
from studio.ui.shell.canvas_area import canvas_area
from studio.ui.shell.document import Document, display_name, settings
from studio.ui.editor.inspector import Inspector, human
from studio.ui.shell.main_actions import Actions
from studio.ui.editor.palette import Palette

log = logging.getLogger(__name__)
SAMPLES_DIR = resource_dir("samples")
FILE_FILTER = "Studio projects (*.studio.json);;JSON files (*.json);;All files (*)"
Btn = QMessageBox.StandardButton
STATE_VERSION = 2  # of the dock layout in saveState: 2 = canvas-first sizes


class MainWindow(QMainWindow):
    project_replaced = Signal()
    theme_changed = Signal(bool)  # dark?

    def __init__(self, dark: bool | None = None) -> None:
        super().__init__()
        if dark is None:
            dark = settings().value("theme", "light") == "dark"
        theme.apply(QApplication.instance(), dark)  # before any widget exists: styling is cheap then
        self.setObjectName("studio_main_window")
        self.setWindowIcon(icons.app_icon())
        self.undo_stack = QUndoStack(self)
        self.document = Document(self.undo_stack, self)
        self._locked = False
        self._model = None

        self.canvas = CanvasView(self)
        self.setCentralWidget(canvas_area(self))  # the breadcrumb bar over the canvas
        self.palette = Palette()
        self.palette.setMinimumWidth(180)
        self.inspector = Inspector()
        self.inspector.setMinimumWidth(250)
        self.palette_dock = self._dock("Layers", "palette_dock", self.palette,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", "inspector_dock", self.inspector,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.run_placeholder = QLabel("Training panel is not available in this build")
        self.run_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.run_placeholder.setProperty("role", "muted")
        self.run_dock = self._dock("Training", "run_dock", self.run_placeholder,
                                   Qt.DockWidgetArea.BottomDockWidgetArea)
        # Only closable (Ctrl+J): its title bar sits just below the splitter, and a drag
        # that missed the splitter by a few pixels tore the whole panel off the window.
        self.run_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        # The training dock spans the full width: its forms and plots need the room,
        # and side docks above it keep the window's minimum width small.
        self._sized = False

        self.actions_ = Actions(self)
        self.actions_.build_menus()
        self.block_levels.add_actions(self.actions_)
        self.toolbar = self.actions_.build_toolbar()
        self.menu_view.addAction(self.palette_dock.toggleViewAction())
        self.menu_view.addAction(self.inspector_dock.toggleViewAction())
        toggle = self.run_dock.toggleViewAction()
        toggle.setText("&Training Panel")
        toggle.setShortcut(QKeySequence("Ctrl+J"))  # as the bottom panel of code editors
        toggle.setStatusTip("Show or hide the training panel (Ctrl+J)")
        self.menu_view.addAction(toggle)
        self.addAction(toggle)  # the shortcut works while the menu bar is hidden too
        self.stats_label = QLabel()
        self.stats_label.setProperty("role", "muted")
        self.statusBar().addPermanentWidget(self.stats_label)
        self._stats_timer = QTimer(self, singleShot=True, interval=0)
        self._stats_timer.timeout.connect(self._update_stats)

        self.palette.layer_activated.connect(self.add_layer_at_centre)
        self.palette.block_activated.connect(self.canvas.add_library_block)
        self.canvas.selection_changed.connect(self.inspector.show_selection)
        self.canvas.status_message.connect(self.show_status)
        self.inspector.status_message.connect(self.show_status)
        self.document.changed.connect(self._update_title)
        self.document.replaced.connect(self._attach_project)

        self._attach_project()
        self._install_run_dock()
        self.restore_settings(dark)

    def _dock(self, title: str, name: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _install_run_dock(self) -> None:
        """The run panel is another module; the editor must work without it."""
        try:
            run_dock = importlib.import_module("studio.ui.run.dock")
        except ModuleNotFoundError as e:
            if e.name != "studio.ui.run.dock":
                log.exception("training panel needs a missing module")
                self.run_placeholder.setText(f"Training panel is not available: {e}")
            return
        try:
            panel = run_dock.install(self)
        except Exception as e:  # noqa: BLE001 - a broken panel must not stop the editor
            log.exception("training panel failed to load")
            self.run_placeholder.setText(f"Training panel failed to load: {e}")
            return
        if panel is not None and self.run_dock.widget() is self.run_placeholder:
            self.run_dock.setWidget(panel)

    # -- API for the run panel ------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.document.project

    def show_status(self, text: str, ms: int = 5000) -> None:
        self.statusBar().showMessage(text, ms)

    def set_editing_locked(self, locked: bool) -> None:
        self._locked = locked
        self.canvas.set_locked(locked)
        self.inspector.set_locked(locked)
        self.palette.setEnabled(not locked)
        self.actions_.set_locked(locked)

    @property
    def editing_locked(self) -> bool:
        return self._locked

    # -- document ------------------------------------------------------------------------
    def _attach_project(self) -> None:
        model = self.document.project.model
        if self._model is not None:
            self._model.unsubscribe(self._on_model_event)
        self._model = model
        model.subscribe(self._on_model_event)
        self.canvas.set_model(model, self.undo_stack)
        self.inspector.set_model(model, self.undo_stack, push=self.canvas.push,
                                 problems=self.canvas.problems)
        self._update_title()
        self._update_stats()
        self.canvas.fit()
        QTimer.singleShot(0, self.canvas, self.canvas.fit)  # again once the view has its final size
        self.project_replaced.emit()

    def _on_model_event(self, ev) -> None:
        if not isinstance(ev, NodeMoved):
            self._stats_timer.start()  # coalesced: one update per event-loop turn

    def _update_stats(self) -> None:
        m = self.project.model
        weights, macs = m.shapes.totals()
        layers, blocks = counts(m)  # inside blocks too
        self.stats_label.setText(f"{layers} layers{f' in {blocks} blocks' if blocks else ''} · "
                                 f"{human(weights)} params · {human(macs)} mult-adds")

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.title()}[*] — Studio")
        self.setWindowModified(self.document.dirty)

    def confirm_discard(self) -> bool:
        """True when the current document may be replaced (saved, discarded or clean)."""
        if not self.document.dirty:
            return True
        answer = self.ask_save_changes()
        if answer == Btn.Save:
            return self.save()
        return answer == Btn.Discard

    def ask_stop_training(self) -> bool:
        """Stop the run in flight and close? Tests replace this method."""
        box = QMessageBox(QMessageBox.Icon.Question, "Training is running",
                          "Training is running — stop it and close?", parent=self)
        stop = box.addButton("Stop and Close", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(Btn.Cancel)
        box.setDefaultButton(Btn.Cancel)
        box.exec()
        return box.clickedButton() is stop

    def ask_save_changes(self) -> Btn:
        """The Save / Discard / Cancel question; tests replace this method."""
        return QMessageBox.question(
            self, "Unsaved changes",
            f"Save the changes to “{self.document.title()}” before closing it?",
            Btn.Save | Btn.Discard | Btn.Cancel, Btn.Save)

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    def ask_open_path(self) -> str:
        start = str(self.project.path.parent) if self.project.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, FILE_FILTER)
        return path

    def ask_save_path(self) -> str:
        base = self.project.path or Path.home() / f"{display_name(self.project)}.studio.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save project", str(base), FILE_FILTER)
        if path and not path.endswith(".json"):
            path += ".studio.json"
        return path

    def new_project(self) -> bool:
        if self._locked or not self.confirm_discard():
            return False
        self.document.new()
        return True

    def open_dialog(self) -> bool:
        if self._locked or not self.confirm_discard():
            return False
        path = self.ask_open_path()
        return bool(path) and self.open_path(path, confirm=False)

    def open_path(self, path, confirm: bool = True, as_copy: bool = False) -> bool:
        """Open a project; on any error show it and keep the current document."""
        if confirm and (self._locked or not self.confirm_discard()):
            return False
        try:
            self.document.open(path, remember=not as_copy)
        except ProjectError as e:
            self.show_error("Cannot open project", str(e))
            return False
        except Exception as e:  # noqa: BLE001 - a bad file must never take the app down
            log.exception("opening %s failed", path)
            self.show_error("Cannot open project", f"{path}: {type(e).__name__}: {e}")
            return False
        if as_copy:  # samples open as untitled, clean copies: Save asks for a path, never overwrites them
            self.project.path = None
            self._update_title()
        self.show_status(f"Opened {display_name(self.project)}")
        from studio.ui.shell.import_dialog import ask_trust
        ask_trust(self)  # a project that keeps modules from the user's .py files asks first
        return True

    def import_model(self) -> bool:
        from studio.ui.shell.import_dialog import run_import
        return run_import(self)

    def open_sample(self) -> bool:
        from studio.ui.shell.samples_dialog import SamplesDialog
        if self._locked:
            return False
        dlg = SamplesDialog(SAMPLES_DIR, self)
        if not dlg.exec() or dlg.selected_path() is None:
            return False
        return self.open_path(dlg.selected_path(), as_copy=True)

    def save(self) -> bool:
        if self.project.path is None:
            return self.save_as()
        return self._save_to(self.project.path)

    def save_as(self) -> bool:
        path = self.ask_save_path()
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except (ProjectError, OSError) as e:
            self.show_error("Cannot save project", str(e))
            return False
        self.show_status(f"Saved {path}")
        return True

    def fill_recent_menu(self) -> None:
        menu = self.menu_recent
        menu.clear()
        recent = self.document.recent_files()
        for i, p in enumerate(recent):
            path = Path(p)
            a = menu.addAction(f"&{i + 1 if i < 9 else 0}  {path.name}  —  {path.parent.name or path.parent}")
            a.setToolTip(p)
            a.setStatusTip(p)
            a.setData(p)
            a.triggered.connect(self._open_recent_action)
        if not recent:
            menu.addAction("No recent projects").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear Recent", self.document.clear_recent)

    @Slot()
    def _open_recent_action(self) -> None:
        action = self.sender()
        if action is not None:
            self._open_recent(action.data())

    def _open_recent(self, path: str) -> None:
        if not Path(path).exists():
            self.document.remove_recent(path)
            self.show_error("Cannot open project", f"{path} no longer exists.")
            return
        self.open_path(path)

    # -- editing helpers ---------------------------------------------------------------------
    def add_layer_at_centre(self, layer_type: str) -> None:
        if self._locked:
            return
        nid = self.canvas.add_layer(layer_type)
        if nid:
            self.canvas.select_nodes([nid])

    def show_getting_started(self) -> None:
        from studio.ui.shell.guide_dialog import GettingStartedDialog
        GettingStartedDialog(self).exec()

    def show_about(self) -> None:
        from studio.ui.shell.guide_dialog import AboutDialog
        AboutDialog(self).exec()

    def show_shortcuts(self) -> None:
        from studio.ui.shell.help_dialog import HelpDialog
        HelpDialog(self).exec()

    # -- theme and settings ------------------------------------------------------------------
    def set_dark(self, dark: bool) -> None:
        app = QApplication.instance()
        theme.apply(app, dark)
        self.canvas.set_dark(dark)
        self.actions_.refresh_icons()
        self.palette.refresh_icons()
        self.inspector.rebuild()
        if self.actions_.dark.isChecked() != dark:
            self.actions_.dark.setChecked(dark)
        settings().setValue("theme", "dark" if dark else "light")
        self.theme_changed.emit(dark)

    def restore_settings(self, dark: bool | None) -> None:
        s = settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        # A state saved by an older layout (another version) is ignored: new defaults apply.
        self._restored_state = isinstance(state, QByteArray) and self.restoreState(state, STATE_VERSION)
        self.set_dark(bool(dark))

    def save_settings(self) -> None:
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(STATE_VERSION))
        s.sync()

    def _default_dock_sizes(self) -> None:
        """The canvas gets most of the window: narrow side docks and a training
        dock of a third of the height (300 px at 900), Ctrl+J to hide it."""
        self.resizeDocks([self.palette_dock, self.inspector_dock], [220, 300], Qt.Orientation.Horizontal)
        height = 120 if self.run_dock.widget() is self.run_placeholder else \
            max(200, min(420, self.height() // 3))
        self.resizeDocks([self.run_dock], [height], Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._sized:  # dock sizes need the final window size; restored state wins
            self._sized = True
            if not self._restored_state:
                self._default_dock_sizes()
                QTimer.singleShot(0, self, self._default_dock_sizes)  # once the layout has settled
            QTimer.singleShot(0, self.canvas, self.canvas.fit)

    def closeEvent(self, event: QCloseEvent) -> None:
        """A run in flight first (stop it?), then unsaved changes (save?); Cancel
        at either question keeps the window open and training running."""
        panel = getattr(self, "run_panel", None)
        if panel is not None and panel.session.running and not self.ask_stop_training():
            event.ignore()
            return
        if not self.confirm_discard():
            event.ignore()
            return
        if panel is not None:  # join the run's thread: a QThread outliving its window aborts
            panel.shutdown()
        self.save_settings()
        event.accept()
