"""Loading (and downloading) a dataset off the GUI thread for the preview and
the Download button. Same rule as the trainer worker: the thread only emits;
the receiver must be a @Slot method of a GUI-thread QObject."""
from __future__ import annotations

import copy

from PySide6.QtCore import QThread, Signal


class DatasetLoader(QThread):
    progress = Signal(float, str)
    loaded = Signal(object)      # Dataset
    failed = Signal(str)

    def __init__(self, data_settings, parent=None):
        super().__init__(parent)
        self.settings = copy.deepcopy(data_settings)  # the form may change the live one meanwhile
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    def run(self) -> None:
        from studio.data.load import load_dataset
        try:
            dataset = load_dataset(self.settings, progress=self._report)
        except _Cancelled:
            self.failed.emit("Cancelled")
            return
        except Exception as e:  # noqa: BLE001 - shown in the form, never a dead thread
            self.failed.emit(str(e) or type(e).__name__)
            return
        self.loaded.emit(dataset)

    def _report(self, fraction: float, message: str) -> None:
        if self._cancel:
            raise _Cancelled
        self.progress.emit(float(fraction), str(message))


class _Cancelled(Exception):
    pass
