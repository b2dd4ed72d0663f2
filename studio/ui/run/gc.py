"""Keeping the GUI thread responsive while torch works in another thread.

Full (generation-2) garbage collections hold the GIL for the whole heap walk.
With torch, PySide and pyqtgraph loaded that took 300-700 ms on the 2-core
machines, and a training run (or importing torch._dynamo, which the first
optimizer step does) triggers one every few seconds: the window froze
(measured with bench/ui_latency.py). So:

- While anything heavy runs (a run, the preload), the gen-2 threshold is raised
  so no full collection starts; young generations are still collected, so
  short-lived cycles are freed. Leaving restores the thresholds exactly.
- Once, after the preload, everything alive is frozen (gc.freeze is O(1)):
  that is the modules and classes of torch, PySide and pyqtgraph, which live as
  long as the app, and made up most of the 300-700 ms walk.
- Runs do not freeze. Freezing at each run start moved whatever was alive then
  (the previous run's model, an fx GraphModule full of cycles) out of the
  collector's reach for good: a leak per run.

The GIL switch interval is shortened meanwhile too (see SWITCH_INTERVAL).
"""
from __future__ import annotations

import gc
import importlib
import sys
import threading

_lock = threading.Lock()
_users = 0
_saved: tuple[int, int, int] | None = None
_saved_switch = 0.005
# The GUI thread calls into Qt (releasing the GIL) dozens of times per plot
# paint and must win the GIL back from the trainer each time: up to one switch
# interval per call. 1 ms instead of 5 ms cut the worst paint stall about 2x.
SWITCH_INTERVAL = 0.001

# What the first run imports lazily (torch._dynamo pulls in sympy: ~5 s here).
PRELOAD = ("studio.data.load", "studio.train.trainer", "torch._dynamo")
preloaded = threading.Event()


def quiet_enter() -> None:
    global _users, _saved
    with _lock:
        _users += 1
        if _users == 1:
            _saved = gc.get_threshold()
            gc.set_threshold(_saved[0], _saved[1], 1_000_000)
            global _saved_switch
            _saved_switch = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved_switch, SWITCH_INTERVAL))


def quiet_leave() -> None:
    global _users, _saved
    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            sys.setswitchinterval(_saved_switch)
            _saved = None


def _preload() -> None:
    try:
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a missing optional module only costs time later
                pass
    finally:
        gc.freeze()  # the app's long-lived heap, now imported: never walk it again
        quiet_leave()
        preloaded.set()


def start_preload() -> None:
    """Import what the first run needs in a background thread, once, so pressing
    Train does not wait for (or stall on) seconds of imports."""
    if preloaded.is_set() or getattr(start_preload, "started", False):
        return
    start_preload.started = True
    quiet_enter()
    threading.Thread(target=_preload, name="studio-preload", daemon=True).start()
