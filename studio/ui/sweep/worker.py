"""Sweeps in the app: trials one after another in a QThread, through the same
SweepRunner as `studio sweep`, so a sweep started here can be resumed or
extended from the command line and the other way round.

As in ui/run/worker.py (a worker's signal connected to a plain function runs in the
worker thread): the thread only emits; SweepSession, living in the GUI thread,
receives in @Slot methods and re-emits.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.project import file as project_io

EMIT_INTERVAL_S = 0.2


class SweepThread(QThread):
    trial_started = Signal(int, object)   # number, params
    trial_ended = Signal(object)          # TrialInfo
    epoch = Signal(int, object)           # trial number, EpochEvent
    results = Signal(object)              # SweepResults, read in this thread
    done = Signal(object)                 # dict: error (str), importance, ran (count)

    def __init__(self, project, root: Path, name: str, trials: int, timeout: float, parent=None):
        super().__init__(parent)
        self.project, self.root, self.name = project, Path(root), name
        self.trials, self.timeout = trials, timeout
        self.runner = None
        self._number = -1
        self._last = 0.0

    def request_stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        self.requestInterruption()

    # -- listener (worker thread) ---------------------------------------------------------
    def on_trial_start(self, number: int, params: dict) -> None:
        self._number = number
        self.trial_started.emit(number, params)
        self._emit_results()

    def on_trial_end(self, info) -> None:
        self.trial_ended.emit(info)
        self._emit_results()

    def _emit_results(self) -> None:
        """The table's rows, read here: while trials run, only this thread touches the
        study's storage (the GUI thread reading it too crashed once, in SQLAlchemy)."""
        from studio.sweep import results as sweep_results
        try:
            found = sweep_results.load(self.root, self.name)
        except Exception:  # noqa: BLE001 - the table refreshes after the next trial, or at the end
            return
        if found is not None:
            self.results.emit(found)

    def on_epoch_end(self, e) -> None:  # a trainer callback
        self.epoch.emit(self._number, e)

    def run(self) -> None:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # the Sweep tab shows every trial
        from studio.sweep.results import importance
        from studio.sweep.runner import SweepConfig, SweepRunner, check_budget
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))  # leave a core to the GUI
        outcome: dict = {"error": "", "importance": {}, "ran": 0}
        try:
            space = self.project.sweep
            check_budget(space, self.trials, self.timeout)
            config = SweepConfig(self.root, self.name, self.trials, 0, self.timeout)
            self.runner = SweepRunner(self.project, space, config, listener=self, trainer_callbacks=[self])
            if self.isInterruptionRequested():
                self.runner.stop()
            self.runner.open()
            outcome["ran"] = len(self.runner.run())
            outcome["importance"] = importance(self.root, self.name)
        except Exception as e:  # noqa: BLE001 - every failure reaches the panel as one line
            outcome["error"] = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        self.done.emit(outcome)


class SweepSession(QObject):
    """GUI-side end of a sweep: slots for the thread's signals, plain signals for the views."""
    trial_started = Signal(int, object)
    trial_ended = Signal(object)
    epoch = Signal(int, object)
    results = Signal(object)
    finished = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.thread: SweepThread | None = None
        self.started_at = 0.0

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, project, root: Path, name: str, trials: int, timeout: float) -> None:
        # The thread trains a snapshot: later edits do not reach trials already queued.
        snapshot = project_io.loads(project_io.dumps(project))
        snapshot.path = project.path
        self.thread = SweepThread(snapshot, root, name, trials, timeout)
        self.thread.trial_started.connect(self._on_trial_started)
        self.thread.trial_ended.connect(self._on_trial_ended)
        self.thread.epoch.connect(self._on_epoch)
        self.thread.results.connect(self._on_results)
        self.thread.done.connect(self._on_done)
        self.started_at = time.monotonic()
        # Import and open the storage here, on the GUI thread: module code executing in a
        # worker thread while plots redraw deadlocked PySide (seen in a CI run).
        from studio.sweep import results, runner  # noqa: F401
        from studio.sweep.study import open_storage
        open_storage(root)
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.request_stop()

    def wait(self, ms: int = 15000) -> bool:
        if self.thread is None:
            return True
        self.stop()
        return self.thread.wait(ms)

    @Slot(int, object)
    def _on_trial_started(self, number, params) -> None:
        self.trial_started.emit(number, params)

    @Slot(object)
    def _on_trial_ended(self, info) -> None:
        self.trial_ended.emit(info)

    @Slot(int, object)
    def _on_epoch(self, number, e) -> None:
        self.epoch.emit(number, e)

    @Slot(object)
    def _on_results(self, found) -> None:
        self.results.emit(found)

    @Slot(object)
    def _on_done(self, outcome) -> None:
        self.thread.wait()
        self.finished.emit(outcome)
