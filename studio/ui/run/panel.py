"""The training panel: settings on the left; Train/Pause/Stop, progress and the
Curves / Results / Dataset / Activations tabs on the right.

It drives one RunSession at a time, records every run in a RunRecord (plots,
run list, `<project>.runs/`) and locks graph editing while a run is in flight,
because the run trains a snapshot and edits would silently not apply.
"""
from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (QScrollArea, QSplitter,
                               QVBoxLayout, QWidget)

from studio.graph.events import NodeMoved, ShapesChanged
from studio.graph.validate import validate
from studio.settings import to_dict

from studio.ui.style import icons
from studio.ui.run import datafit
from studio.ui.run import history
from studio.ui.run.plots import LivePlots
from studio.ui.run.list import RunList
from studio.ui.run.results import ResultsView
from studio.ui.run.activation_view import ActivationView, panel_source
from studio.ui.run.checkbar import CheckBar
from studio.ui.run.controls import build_controls
from studio.ui.run.precheck import precheck
from studio.ui.run.progress import Progress, ended_text, metric_text
from studio.ui.run.tabs import build_tabs
from studio.ui.run.samples import Sample, SampleGrid
from studio.ui.run.settings import RunSettingsForm
from studio.ui.run.worker import RunSession

DOCK_HEIGHT = 275  # plus the dock's title bar: about 300 px



log = logging.getLogger(__name__)
STALE_TEXT = "Network edited since this run: train again to update"

class RunPanel(QWidget):
    run_started = Signal(int)            # run number
    run_finished = Signal(object)       # RunOutcome

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.project = None
        self.preview_dataset = None
        self.session = RunSession(self)
        self.runs: list[history.RunRecord] = []
        self.current: history.RunRecord | None = None
        self.outcome = None
        self.progress_state: Progress | None = None
        self.export_actions = None       # set by run_dock
        self.known_shapes = datafit.KnownShapes()
        self._build()
        self.fit = datafit.FitWatcher(self, self.known_shapes)
        self.session.batches_arrived.connect(self._on_batches)
        self.session.epoch_ended.connect(self._on_epoch)
        self.session.activations_ready.connect(self.activations.show_epoch)
        self.session.loading.connect(self._on_loading)
        self.session.dataset_ready.connect(self._on_dataset_ready)
        self.session.notice.connect(self._on_notice)
        self.session.run_finished.connect(self._on_run_finished)
        self._set_state("idle")

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        top = build_controls(self)

        self.checks = CheckBar()
        self.message = self.checks.message          # tests and older callers read these
        self.check_label = self.checks.check_label
        self.lock_label = self.checks.lock_label

        self.plots = LivePlots()
        self.run_list = RunList()
        self.run_list.setMinimumHeight(20)
        self.run_list.visibility_changed.connect(self._on_run_visibility)
        self.run_list.run_selected.connect(self._on_run_selected)
        self.results = ResultsView()
        self.preview = SampleGrid(thumb=48)
        self.preview.empty_text = "Press “Preview samples” to see a few training examples"
        self.activations = ActivationView()
        self.activations.source = partial(panel_source, self)
        self.tabs = build_tabs(self.plots, self.run_list, self.results, self.preview, self.activations)

        undo = getattr(self.window, "undo_stack", None)
        self.form = RunSettingsForm(undo, self.known_shapes)
        self.form.dataset_loaded.connect(self._on_preview_loaded)
        self.form_scroll = form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setWidget(self.form)
        self.fit_form_width()
        form_scroll.setMinimumHeight(60)  # it scrolls: the dock may be short
        form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(6, 4, 4, 0)
        rv.setSpacing(4)
        rv.addLayout(top)
        rv.addWidget(self.checks)
        rv.addWidget(self.tabs, 1)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(form_scroll)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 1000])
        split.setChildrenCollapsible(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(split)

    def fit_form_width(self) -> None:
        """The settings column is never narrower than the form (rows gain widgets later)."""
        self.form_scroll.setMinimumWidth(self.form.minimumSizeHint().width() + 18)

    def showEvent(self, event) -> None:
        self.fit_form_width()  # after every row is in place (sweep markers are added late)
        super().showEvent(event)

    def sizeHint(self) -> QSize:
        # The dock's first height: a third of a 900 px window; the canvas gets the rest.
        return QSize(super().sizeHint().width(), DOCK_HEIGHT)

    # -- project --------------------------------------------------------------------------
    def set_project(self, project) -> None:
        """A (new) document: bind the form and reload the runs saved beside it.
        Nothing of the previous document's run stays on screen."""
        if self.project is not None:
            self.project.model.unsubscribe(self._on_graph_edited)
        self.project = project
        project.model.subscribe(self._on_graph_edited)
        self._stale = False
        self.progress_state = None
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.speed_label.clear()
        self.fit.watch(project)
        self.form.set_project(project)
        self.runs, problems = history.load_runs(history.runs_dir(project.path))
        self.plots.remove_all()
        for run in self.runs:
            self.plots.add_run(run)
        if self.runs:
            self.plots.set_metric_name(self.runs[-1].metric_name)
        self.plots.flush()
        self.run_list.set_runs(self.runs)
        self.checks.show_message("Some saved runs could not be read: " + "; ".join(problems) if problems else "")
        self.val_label.clear()
        self.check_label.clear()

    def _on_graph_edited(self, ev) -> None:
        """After a run, an edit makes its numbers describe the network as it was: say so."""
        if self._stale or self.outcome is None or self.session.running or isinstance(ev, (NodeMoved, ShapesChanged)):
            return
        self._stale = True
        self.progress.setFormat(STALE_TEXT)
        self.progress.setToolTip(f"{STALE_TEXT}: the curves, accuracy and results are from the last run")
        if self.val_label.text():
            self.val_label.setText(f"{self.val_label.text()} (before your edit)")
        self.results.set_stale(True)

    @Slot()
    def set_project_from_window(self) -> None:
        """The window opened another document: its runs, no trained model yet."""
        self.set_project(self.window.project)
        self.outcome = None
        self.results.show_outcome(None)
        if self.export_actions is not None:  # runs saved on disk can be exported after a restart
            self.export_actions.use_saved_run(history.runs_dir(self.project.path))

    # -- commands -------------------------------------------------------------------------
    @Slot()
    def train(self) -> bool:
        """Validate, show the cost check and start a run. False when not started."""
        if self.session.running or self.project is None:
            return False
        problems = validate(self.project.model)
        if problems:
            # A missing wire also makes everything upstream "not used": point at the cause.
            first = min(problems, key=lambda p: "not used" in p.message or "No data reaches" in p.message)
            if first.node and self.window is not None and hasattr(self.window, "canvas"):
                self.window.canvas.go_to_level(0)  # problems name top-level nodes
                self.window.canvas.select_nodes([first.node])
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.checks.show_message(f"Cannot train yet: {first}{more}")
            self._status("The network is not valid yet")
            return False
        if self.window is not None and getattr(self.window, "project", None) is self.project:
            from studio.ui.shell.import_dialog import ask_trust
            ask_trust(self.window)  # user code pasted or taken from the library since opening asks now
        self._show_precheck(precheck(self.project))
        number = max((r.number for r in self.runs), default=0) + 1
        run = history.RunRecord(number=number, colour=history.RUN_COLOURS[(number - 1) % len(history.RUN_COLOURS)],
                                data=to_dict(self.project.data), train=to_dict(self.project.train))
        self.runs.append(run)
        self.current = run
        self.plots.add_run(run)
        self.run_list.add_run(run)
        self.progress_state = Progress(self.project.train.epochs)
        folder = history.runs_dir(self.project.path)
        out_dir = str(folder / f"run-{number:03d}") if folder is not None else None
        self.outcome = None
        self._stale = False
        self.progress.setToolTip("")
        self.speed_label.setToolTip("")
        self.results.set_stale(False)
        self.session.start(self.project, out_dir)
        self._set_state("running")
        self.val_label.clear()
        self.progress.setValue(0)
        self.progress.setFormat("Loading data…")
        self.run_started.emit(number)
        return True

    def _show_precheck(self, check) -> None:
        warn = check.warning()
        self.check_label.setText(check.text())
        self.checks.show_message(f"⚠ {warn}" if warn else "")

    @Slot()
    def stop(self) -> None:
        if self.session.running:
            self.session.stop()
            self.progress.setFormat("Stopping…")
            self.stop_action.setEnabled(False)

    @Slot(bool)
    def _on_pause_toggled(self, paused: bool) -> None:
        if not self.session.running:
            return
        self.session.set_paused(paused)
        self.pause_action.setText("Resume" if paused else "Pause")
        self._refresh_icons()
        if self.progress_state is not None:
            self.progress_state.pause(paused)
        if paused:
            self.progress.setFormat("Paused · " + (self.progress_state.text() if self.progress_state else ""))

    def shutdown(self, wait_ms: int = 15000) -> bool:
        """Stop any run and wait for its thread (the window is closing)."""
        self.form.shutdown()
        for hook in getattr(self, "shutdown_hooks", ()):  # e.g. a sweep in flight
            hook(wait_ms)
        if self.export_actions is not None:
            self.export_actions.wait(wait_ms)
        return self.session.wait(wait_ms)

    # -- state ------------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        running = state == "running"
        self.state = state
        self.train_action.setEnabled(not running)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
        self.form.setEnabled(not running)
        self.checks.set_locked(running)
        if not running:
            self.pause_action.blockSignals(True)
            self.pause_action.setChecked(False)
            self.pause_action.setText("Pause")
            self._refresh_icons()
            self.pause_action.blockSignals(False)
        if self.window is not None and hasattr(self.window, "set_editing_locked"):
            self.window.set_editing_locked(running)

    def _status(self, text: str, ms: int = 5000) -> None:
        if self.window is not None and hasattr(self.window, "show_status"):
            self.window.show_status(text, ms)

    # -- session events (all in the GUI thread) -------------------------------------------
    @Slot(float, str)
    def _on_loading(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(message[:120] or "Loading data…")

    @Slot(object)
    def _on_dataset_ready(self, dataset) -> None:
        if self.project is not None:  # now the training set's size is known: no batch is larger
            self._show_precheck(precheck(self.project, len(dataset.x_train)))
        self.plots.set_metric_name("accuracy" if dataset.task == "classification" else "mae")
        self.progress.setFormat("Building the model…")
        self._show_preview(dataset)
        # The run trains a snapshot fitted to this dataset; the editor's graph follows.
        self.fit.learn(dataset, datafit.load_key(self.project.data) if self.project else None)

    @Slot(str)
    def _on_notice(self, text: str) -> None:
        """The trainer's words: on the progress bar until training starts (choosing speed
        settings takes seconds for a large network), and kept on the speed figure's tooltip."""
        from studio.train.calibrate import MEASURING  # torch: not at the app's start
        if self.progress_state is not None and self.progress_state.last is None:
            self.progress.setFormat(text[:120])
        if text != MEASURING and self.current is not None:
            self.current.notes.append(text)  # saved with the run, shown on its tooltip later
            self.speed_label.setToolTip("This run: " + "; ".join(self.current.notes))

    @Slot(object)
    def _on_batches(self, events) -> None:
        run = self.current
        if run is None or not events:
            return
        for ev in events:
            run.add_batch(ev)
        self.plots.run_changed(run.number)
        last = events[-1]
        self.progress_state.batch(last)
        self.progress.setValue(int(self.progress_state.fraction() * 1000))
        if not self.pause_action.isChecked():
            self.progress.setFormat(self.progress_state.text())
        self.speed_label.setText(f"{last.images_per_second:,.0f} examples/s")

    @Slot(object)
    def _on_epoch(self, ev) -> None:
        run = self.current
        if run is None:
            return
        run.add_epoch(ev)
        self.plots.run_changed(run.number)
        self.val_label.setText(metric_text(ev.metric_name, ev.val_metric, ev.train_metric))

    @Slot(object)
    def _on_run_finished(self, outcome) -> None:
        self.outcome = outcome
        run = self.current
        self._set_state("idle")
        res = outcome.result
        if run is not None and run.batches.n == 0 and not run.epochs:
            # Nothing was trained (bad data, setup error, stopped while loading):
            # the message says why; an empty run would only clutter the list.
            self.runs.remove(run)
            self.plots.remove_run(run.number)
            self.run_list.remove_run(run.number)
            self.current = run = None
        if run is not None:
            history.record_outcome(run, outcome)
            self.run_list.update_run(run)
            self._save_run(run)
        self.plots.flush()
        if outcome.error is not None:
            self.checks.show_message(f"Training failed: {outcome.error.message}")
            if outcome.error.detail:  # the traceback is for a bug report, not for the panel
                log.info("run failed: %s", outcome.error.detail)
            self.progress.setFormat("Failed")
            self._status("Training failed", 8000)
        else:
            text = ended_text(outcome.status, res)
            if res is not None and res.images_per_second:
                self.speed_label.setText(f"{res.images_per_second:,.0f} examples/s")
            self.progress.setFormat(text)
            if outcome.status == "finished":
                self.progress.setValue(1000)
            self._status(f"Training {text.lower()}", 8000)
        if outcome.model is not None and res is not None and res.epochs > 0:
            self.results.show_outcome(outcome)
            if self.export_actions is not None:
                meta = outcome.paths.get("meta")
                self.export_actions.set_source(outcome.project, outcome.model, outcome.dataset,
                                               Path(meta).parent if meta else None)
        self.run_finished.emit(outcome)

    def _save_run(self, run) -> None:
        folder = history.runs_dir(self.project.path if self.project else None)
        if folder is None:
            return
        try:
            history.save_run(folder, run)
        except OSError as e:
            self.checks.show_message(f"Could not save the run beside the project: {e}")

    @Slot(int, bool)
    def _on_run_visibility(self, number: int, on: bool) -> None:
        self.plots.set_run_visible(number, on)
        run = next((r for r in self.runs if r.number == number), None)
        if run is not None and run.status != "running":
            self._save_run(run)

    @Slot(int)
    def _on_run_selected(self, number: int) -> None:
        if self.export_actions is not None and not self.session.running and self.project is not None:
            self.export_actions.use_saved_run(history.runs_dir(self.project.path), number)

    @Slot(object)
    def _on_preview_loaded(self, dataset) -> None:
        self.preview_dataset = dataset
        self.fit.learn(dataset, self.form.data.loaded_key)
        self._show_preview(dataset)
        self.tabs.setCurrentIndex(2)

    def _show_preview(self, dataset) -> None:
        from studio.data.load import preview
        self.preview.set_samples([Sample(img, label) for img, label in preview(dataset, 32)])

    def _refresh_icons(self) -> None:
        """Theme-coloured icons (the app's own SVGs; a drawn pause sign)."""
        self.train_action.setIcon(icons.icon("train"))
        self.stop_action.setIcon(icons.icon("stop"))
        paused = self.pause_action.isChecked()
        self.pause_action.setIcon(icons.icon("train") if paused else icons.pause_icon(self.palette()))

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.PaletteChange, QEvent.ApplicationPaletteChange):
            self.plots.apply_palette(self.palette())
            self._refresh_icons()
        super().changeEvent(event)

