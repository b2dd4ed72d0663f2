"""Progress arithmetic for the run panel: fraction done, ETA and the status
line, from BatchEvents. No Qt, so the maths is tested on its own."""
from __future__ import annotations

import math
import time


def fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Tracks training time, excluding pauses, to estimate the time left."""

    def __init__(self, epochs: int, clock=time.monotonic):
        self.epochs = max(1, epochs)
        self.clock = clock
        self.started: float | None = None
        self.paused_at: float | None = None
        self.paused_total = 0.0
        self.last = None      # last BatchEvent
        self.done_at_start = 0

    def batch(self, ev) -> None:
        if self.started is None:  # time from the first report, so loading is not counted
            self.started = self.clock()
            self.done_at_start = self._done(ev)
        self.last = ev

    def pause(self, on: bool) -> None:
        now = self.clock()
        if on and self.paused_at is None:
            self.paused_at = now
        elif not on and self.paused_at is not None:
            self.paused_total += now - self.paused_at
            self.paused_at = None

    def _done(self, ev) -> int:
        return (ev.epoch - 1) * ev.batches + ev.batch

    def fraction(self) -> float:
        ev = self.last
        if ev is None:
            return 0.0
        return min(1.0, self._done(ev) / (self.epochs * max(1, ev.batches)))

    def eta(self) -> float | None:
        ev = self.last
        if ev is None or self.started is None:
            return None
        now = self.paused_at if self.paused_at is not None else self.clock()
        elapsed = now - self.started - self.paused_total
        done = self._done(ev) - self.done_at_start
        if done <= 0 or elapsed <= 0:
            return None
        left = self.epochs * ev.batches - self._done(ev)
        return elapsed / done * left

    def text(self) -> str:
        ev = self.last
        if ev is None:
            return "Starting…"
        eta = self.eta()
        tail = f" · ETA {fmt_duration(eta)}" if eta is not None else ""
        return f"Epoch {ev.epoch}/{self.epochs} · batch {ev.batch}/{ev.batches}{tail}"


def metric_text(name: str, val, train) -> str:
    value = val if val is not None and not (isinstance(val, float) and math.isnan(val)) else train
    which = "val" if value is val else "train"
    if value is None:
        return ""
    if name == "accuracy":
        return f"{which} accuracy {value * 100:.1f}%"
    return f"{which} MAE {value:.4g}"


def ended_text(status: str, result) -> str:
    """How a run ended, for the progress bar: "Finished · 3 epochs in 0.7 s"."""
    done = {"finished": "Finished", "stopped": "Stopped", "early_stopped": "Stopped early"}
    text = done.get(status, status.title())
    if result is not None:
        text += f" · {result.epochs} epoch{'s' if result.epochs != 1 else ''} in {result.seconds:.1f} s"
    return text
