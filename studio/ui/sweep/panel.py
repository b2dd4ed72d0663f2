"""The Sweep tab: how to search (strategy, budget, objective, cost), what is
searched (the ⚲-marked parameters), Run sweep / Stop, progress, and results."""
from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from studio.project.search_space import SearchSpace
from studio.sweep import results as sweep_results
from studio.sweep.study import SweepError, pick_name, runs_root, study_names

from studio.ui.sweep.commands import SweepDoc
from studio.ui.sweep.results_view import SweepResultsView
from studio.ui.sweep.worker import SweepSession

STRATEGY_LABELS = (("tpe", "Bayesian (TPE)"), ("random", "Random"), ("grid", "Grid"))
OBJECTIVE_LABELS = (("metric", "Validation accuracy / MAE"), ("loss", "Validation loss"))
COST_LABELS = (("none", "Accuracy only"), ("macs", "…and fewer mult-adds"), ("params", "…and fewer parameters"))


class SweepPanel(QWidget):
    def __init__(self, window, run_panel, doc: SweepDoc, parent=None):
        super().__init__(parent)
        self.window, self.run_panel, self.doc = window, run_panel, doc
        self.session = SweepSession(self)
        self.name: str | None = None
        self._trial_total = 0
        self._trials_done = 0

        self.strategy = self._combo("strategy", STRATEGY_LABELS)
        self.trials = QSpinBox()
        self.trials.setRange(0, 100000)
        self.trials.setSpecialValueText("no limit")
        self.trials.setKeyboardTracking(False)
        self.trials.valueChanged.connect(lambda v: self.doc.set_setting("trials", v))
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(0, 10**6)
        self.timeout.setDecimals(0)
        self.timeout.setSuffix(" min")
        self.timeout.setSpecialValueText("no limit")
        self.timeout.setKeyboardTracking(False)
        self.timeout.valueChanged.connect(lambda v: self.doc.set_setting("timeout", float(v) * 60))
        self.objective = self._combo("objective", OBJECTIVE_LABELS)
        self.cost = self._combo("cost", COST_LABELS)
        self.prune = QCheckBox("Prune bad trials early")
        self.prune.setToolTip("optuna's median pruner stops a trial whose curve falls below the median "
                              "of earlier trials (single objective only)")
        self.prune.toggled.connect(lambda on: self.doc.set_setting("pruner", "median" if on else "none"))
        self.run_button = QPushButton("Run sweep")
        self.run_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)

        row = QHBoxLayout()
        for label, w in (("Strategy", self.strategy), ("Trials", self.trials), ("Time", self.timeout),
                         ("Optimise", self.objective), ("", self.cost)):
            if label:
                row.addWidget(QLabel(label))
            row.addWidget(w)
        row.addWidget(self.prune)
        row.addStretch(1)
        row.addWidget(self.run_button)
        row.addWidget(self.stop_button)
        self.dimensions = QLabel()
        self.dimensions.setWordWrap(True)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        self.results = SweepResultsView()
        self.results.open_requested.connect(self.open_trial)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.dimensions)
        lay.addWidget(self.status)
        lay.addWidget(self.results, 1)

        doc.changed.connect(self.refresh)
        self.session.trial_started.connect(self._on_trial_started)
        self.session.trial_ended.connect(self._on_trial_ended)
        self.session.epoch.connect(self._on_epoch)
        self.session.results.connect(self._on_results)
        self.session.finished.connect(self._on_finished)
        self.refresh()

    def _combo(self, key: str, items) -> QComboBox:
        w = QComboBox()
        for value, label in items:
            w.addItem(label, value)
        w.activated.connect(lambda i, k=key, c=w: self.doc.set_setting(k, c.itemData(i)))
        return w

    # -- showing the document --------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        space = self.doc.space or SearchSpace()
        for w, key in ((self.strategy, "strategy"), (self.objective, "objective"), (self.cost, "cost")):
            w.setCurrentIndex(max(0, w.findData(getattr(space, key))))
        for w, v in ((self.trials, space.trials), (self.timeout, space.timeout / 60),
                     (self.prune, space.pruner != "none")):
            w.blockSignals(True)
            w.setChecked(v) if isinstance(w, QCheckBox) else w.setValue(v)
            w.blockSignals(False)
        if space.dimensions:
            self.dimensions.setText("Searching: " + " · ".join(f"<b>{d.key}</b> {d.describe()}"
                                                               for d in space.dimensions))
        else:
            self.dimensions.setText("Nothing to search yet: click ⚲ beside a layer parameter (inspector) "
                                    "or a training setting to search it.")
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.session.running
        space = self.doc.space
        self.run_button.setEnabled(not running and space is not None and bool(space.dimensions))
        self.stop_button.setEnabled(running)

    def load_results(self, importance: dict | None = None) -> None:
        """The sweep of the current space (or the latest one) from the project's runs folder."""
        project = self.doc.project
        if project is None or project.path is None:
            self.results.show_results(None, {})
            return
        root = runs_root(project.path)
        names = study_names(root)
        name = self.name if self.name in names else (names[-1] if names else None)
        self.results.show_results(sweep_results.load(root, name) if name else None,
                                  importance if importance is not None else
                                  (self.results.importance if name == self.name else {}))
        self.name = name

    @Slot()
    def set_project_from_window(self) -> None:
        self.name = None
        if not self.session.running:
            self.status.clear()
        self.doc.set_project(self.window.project)
        self.load_results({})

    # -- running ---------------------------------------------------------------------------
    @Slot()
    def start(self) -> bool:
        project = self.doc.project
        if self.session.running or project is None or not self.doc.space:
            return False
        if project.path is None:
            self.status.setText("Save the project first: a sweep keeps its trials beside the project file.")
            return False
        if self.run_panel is not None and self.run_panel.session.running:
            self.status.setText("A training run is in progress; start the sweep when it ends.")
            return False
        space = self.doc.space
        trials = space.trials
        if space.strategy == "grid" and not trials:
            from studio.sweep.study import grid_size
            trials = grid_size(space)
        root = runs_root(project.path)
        try:
            self.name = pick_name(root, space)
        except (SweepError, OSError) as e:
            self.status.setText(str(e))
            return False
        self._trial_total, self._trials_done = trials, 0
        self.session.start(project, root, self.name, trials, space.timeout)
        self._lock_training(True)
        self.status.setText(f"Sweep “{self.name}” starting…")
        self._update_buttons()
        return True

    @Slot()
    def stop(self) -> None:
        self.session.stop()
        self.status.setText("Stopping after this batch; the trial will be run again on resume…")
        self.stop_button.setEnabled(False)

    def shutdown(self, wait_ms: int = 15000) -> bool:
        return self.session.wait(wait_ms)

    @Slot(int, object)
    def _on_trial_started(self, number: int, params: dict) -> None:
        of = f" of {self._trial_total}" if self._trial_total else ""
        self.status.setText(f"Trial {number} running ({self._trials_done + 1}{of} this session)…")

    @Slot(int, object)
    def _on_epoch(self, number: int, e) -> None:
        of = f" of {self._trial_total}" if self._trial_total else ""
        self.status.setText(f"Trial {number} ({self._trials_done + 1}{of} this session) · epoch {e.epoch}/{e.epochs}")

    @Slot(object)
    def _on_trial_ended(self, info) -> None:
        self._trials_done += 1

    @Slot(object)
    def _on_results(self, found) -> None:
        """Rows read by the sweep's thread: the GUI thread does not open the storage mid-run."""
        self.results.show_results(found, self.results.importance if found.name == self.name else {})
        self.name = found.name

    def _lock_training(self, locked: bool) -> None:
        """No plain run beside a sweep: both would share the same cores."""
        action = getattr(self.run_panel, "train_action", None)
        if action is not None:
            action.setEnabled(not locked and not self.run_panel.session.running)

    @Slot(object)
    def _on_finished(self, outcome: dict) -> None:
        self._lock_training(False)
        self.load_results(outcome.get("importance") or {})
        if outcome.get("error"):
            self.status.setText(f"Sweep stopped: {outcome['error']}")
        elif outcome.get("ran", 0) == 0:
            self.status.setText("Nothing to run: the sweep has used its trial budget; raise Trials to go on.")
        else:
            best = self.results.results.best() if self.results.results else None
            text = f"Sweep finished: {outcome['ran']} trials run."
            if best is not None:
                text += f" Best: trial {best.number}."
                self.results.select_trial(best.number)
            self.status.setText(text)
        self._update_buttons()

    @Slot(str)
    def open_trial(self, path: str) -> None:
        """The trial's exact project, as an untitled copy so its run folder stays as it was."""
        if self.window is None:
            return
        canvas = getattr(self.window, "canvas", None)
        if canvas is not None:
            # Replacing the document while a node is selected made the canvas read deleted
            # node items (seen in this branch on main too); clear the selection first.
            canvas.select_nodes([])
        self.window.open_path(path, as_copy=True)
