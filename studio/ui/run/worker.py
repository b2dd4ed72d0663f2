"""Training in a QThread, through the same Trainer as `studio train`.

Two halves, because of a PySide6 hazard: a worker signal connected
to a lambda or plain function runs *in the worker thread*. So `TrainThread`
only emits, and `RunSession`, a QObject living in the GUI thread, receives every
signal in `@Slot` methods and re-emits plain GUI-thread signals for the panel.

The thread batches BatchEvents and emits at most every ~100 ms, so a fast model
cannot flood the event loop with thousands of queued signals per second.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.project import file as project_io
from studio.train.events import RunResult, TrainError
from studio.train.runtime import classify

from studio.ui.run import gc as run_gc

EMIT_INTERVAL_S = 0.1


class _Cancelled(Exception):
    """Raised from the data-loading progress callback when Stop is pressed."""


@dataclass
class RunOutcome:
    """Everything the GUI needs once a run has ended; handed over only after the
    thread has finished, so the GUI never touches objects the worker still uses."""
    result: RunResult | None = None
    error: TrainError | None = None
    model: Any = None                 # torch.nn.Module on the CPU, eval mode
    dataset: Any = None               # studio.data.dataset.Dataset
    confusion: Any = None             # K×K numpy int array, rows = true class
    val_predictions: Any = None       # 1-D numpy array of predicted class ids (or values)
    project: Any = None               # the snapshot the run trained
    paths: dict = field(default_factory=dict)
    reconstructions: Any = None       # studio.train.generate.ReconstructionProbe (autoencoders)

    @property
    def status(self) -> str:
        if self.error is not None:
            return "failed"
        return self.result.status if self.result else "stopped"


def snapshot(project):
    """An independent copy of the project for the worker: the live one is
    edited by the GUI and its GraphModel has Qt listeners attached."""
    copy = project_io.loads(project_io.dumps(project))
    copy.path = project.path
    return copy


class TrainThread(QThread):
    batches = Signal(object)        # list[BatchEvent]
    epoch = Signal(object)          # EpochEvent
    loading = Signal(float, str)    # dataset progress
    ready = Signal(object)          # Dataset, before the first batch
    done = Signal(object)           # RunOutcome
    activations = Signal(object)    # (epoch, {node: outputs}, raw examples, {attention node: maps or None})
    notice = Signal(str)            # what the trainer tells the user (speed settings, fallbacks)

    def __init__(self, project, out_dir: str | None = None, parent=None):
        super().__init__(parent)
        self.project = project
        self.out_dir = out_dir
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._trainer = None
        self._pending: list = []
        self._last_emit = 0.0
        self._error: TrainError | None = None
        self.attention_wish = None  # attention_maps.Wish: the nodes whose attention maps a view shows

    # -- called from the GUI thread --------------------------------------------------
    def request_stop(self) -> None:
        self._stop.set()
        with self._lock:
            trainer = self._trainer
        if trainer is not None:
            trainer.stop()
            trainer.resume_run()  # a paused trainer must wake up to notice the stop

    def pause(self) -> None:
        with self._lock:
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            if self._trainer is not None:
                self._trainer.resume_run()

    # -- the worker thread --------------------------------------------------------------
    def run(self) -> None:
        # Leave a core to the GUI: with every core for torch and another busy thread,
        # gathering a batch took 200x longer. It must happen before the first torch op.
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
        outcome = RunOutcome(project=self.project)
        try:
            self._train(outcome)
        except _Cancelled:
            outcome.result = None
        except BaseException as e:  # noqa: BLE001 - every failure must reach the panel
            outcome.error = classify(e)
        self._flush()
        if outcome.error is None and self._error is not None:
            outcome.error = self._error
        self.done.emit(outcome)

    def _train(self, outcome: RunOutcome) -> None:
        from studio.data.load import load_dataset
        from studio.train.activations import ActivationProbe
        from studio.train.attention_maps import AttentionProbe
        from studio.train.generate import ReconstructionProbe
        from studio.train.trainer import Trainer
        dataset = load_dataset(self.project.data, progress=self._on_progress)
        outcome.dataset = dataset
        if self._stop.is_set():
            raise _Cancelled
        self.ready.emit(dataset)
        probe, self.act_probe = ReconstructionProbe(), ActivationProbe()
        self.attn_probe = AttentionProbe(self.act_probe, self.attention_wish)
        # The probes first: when this thread's on_epoch_end reports, their snapshots are ready.
        trainer = Trainer(self.project, dataset, out_dir=self.out_dir,
                          callbacks=(probe, self.act_probe, self.attn_probe, self))
        probe.trainer = self.act_probe.trainer = trainer
        outcome.reconstructions = probe
        with self._lock:
            self._trainer = trainer
        if self._stop.is_set():
            trainer.stop()
        outcome.result = trainer.run()
        self._collect(trainer, outcome)

    def _collect(self, trainer, outcome: RunOutcome) -> None:
        model = getattr(trainer, "model", None)
        if model is not None:
            outcome.model = model.to("cpu").eval()
        for name in ("confusion", "val_predictions"):
            value = getattr(trainer, name, None)
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            setattr(outcome, name, value)
        if outcome.result is not None:
            outcome.paths = dict(outcome.result.paths or {})

    def _on_progress(self, fraction: float, message: str) -> None:
        if self._stop.is_set():
            raise _Cancelled
        self.loading.emit(float(fraction), str(message))

    # -- Trainer callbacks (worker thread) -----------------------------------------------
    def on_batch_end(self, event) -> None:
        self._pending.append(event)
        now = time.monotonic()
        if now - self._last_emit >= EMIT_INTERVAL_S:
            self._flush(now)

    def on_epoch_end(self, event) -> None:
        self._flush()
        self.epoch.emit(event)
        latest = getattr(getattr(self, "act_probe", None), "latest", None)
        if latest is not None:
            attention = getattr(getattr(self, "attn_probe", None), "latest", None)
            self.activations.emit((*latest, attention[1] if attention and attention[0] == latest[0] else {}))

    def on_run_end(self, result) -> None:
        self._flush()

    def on_notice(self, text: str) -> None:
        self.notice.emit(str(text))

    def on_error(self, error) -> None:
        self._error = error

    def _flush(self, now: float | None = None) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self.batches.emit(batch)
        self._last_emit = now if now is not None else time.monotonic()


class RunSession(QObject):
    """GUI-thread side of one run at a time. Every worker signal lands in a @Slot
    here; the panel connects only to the signals below, all emitted in the GUI thread."""

    batches_arrived = Signal(object)
    epoch_ended = Signal(object)
    loading = Signal(float, str)
    dataset_ready = Signal(object)
    run_finished = Signal(object)   # RunOutcome
    activations_ready = Signal(object)
    notice = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: TrainThread | None = None
        self._outcome: RunOutcome | None = None
        self.paused = False
        self.attention_wish = None  # handed to each run's probe (see TrainThread)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, project, out_dir: str | None = None) -> None:
        if self._thread is not None:
            raise RuntimeError("a run is already in progress")
        self._outcome = None
        self.paused = False
        t = TrainThread(snapshot(project), out_dir)
        t.attention_wish = self.attention_wish
        t.batches.connect(self._on_batches)
        t.epoch.connect(self._on_epoch)
        t.loading.connect(self._on_loading)
        t.ready.connect(self._on_ready)
        t.done.connect(self._on_done)
        t.activations.connect(self._on_activations)
        t.notice.connect(self._on_notice)
        t.finished.connect(self._on_thread_finished)
        self._thread = t
        run_gc.quiet_enter()  # no full GC pauses while training: see run_gc
        t.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.request_stop()
            self.paused = False

    def set_paused(self, paused: bool) -> None:
        if self._thread is None:
            return
        (self._thread.pause if paused else self._thread.resume)()
        self.paused = paused

    def wait(self, ms: int = 10000) -> bool:
        """Stop and wait for the thread (window closing). True when it ended."""
        t = self._thread
        if t is None:
            return True
        t.request_stop()
        return t.wait(ms)

    @Slot(object)
    def _on_batches(self, events) -> None:
        self.batches_arrived.emit(events)

    @Slot(object)
    def _on_activations(self, latest) -> None:
        self.activations_ready.emit(latest)

    @Slot(object)
    def _on_epoch(self, event) -> None:
        self.epoch_ended.emit(event)

    @Slot(float, str)
    def _on_loading(self, fraction: float, message: str) -> None:
        self.loading.emit(fraction, message)

    @Slot(str)
    def _on_notice(self, text: str) -> None:
        self.notice.emit(text)

    @Slot(object)
    def _on_ready(self, dataset) -> None:
        self.dataset_ready.emit(dataset)

    @Slot(object)
    def _on_done(self, outcome) -> None:
        self._outcome = outcome

    @Slot()
    def _on_thread_finished(self) -> None:
        t, self._thread = self._thread, None
        run_gc.quiet_leave()
        outcome = self._outcome or RunOutcome(error=TrainError("other", "The training thread ended unexpectedly."))
        self.paused = False
        if t is not None:
            t.deleteLater()
        self.run_finished.emit(outcome)
