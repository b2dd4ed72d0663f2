"""File ▸ Export: the last trained model in six formats, each written and then
verified by studio.train.export.export_model, off the GUI thread (ONNX and
torch.export take seconds). The actions stay disabled until a run has trained
a model, with a tooltip saying so."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.train.formats import FORMATS as SUFFIXES

# fmt, menu text, file suffix (the exporter's own), file-dialog filter
FORMATS = (
    ("safetensors", "Weights (safetensors)…", SUFFIXES["safetensors"][0], "safetensors weights (*.safetensors)"),
    ("pt", "PyTorch weights (.pt)…", SUFFIXES["pt"][0], "PyTorch files (*.pt)"),
    ("torchscript", "TorchScript (legacy)…", SUFFIXES["torchscript"][0], "TorchScript files (*.pt)"),
    ("pt2", "torch.export program (.pt2)…", SUFFIXES["pt2"][0], "torch.export programs (*.pt2)"),
    ("onnx", "ONNX…", SUFFIXES["onnx"][0], "ONNX models (*.onnx)"),
    ("python", "Python source + weights (.py)…", SUFFIXES["python"][0], "Python files (*.py)"),
)
NOT_TRAINED = "Train the model first: exports use the weights of the last run"


class ExportThread(QThread):
    done = Signal(object, str)   # ExportResult or None, error text

    def __init__(self, project, weights, fmt: str, path: str, parent=None):
        super().__init__(parent)
        self.project, self.weights, self.fmt, self.path = project, weights, fmt, path

    def run(self) -> None:
        from studio.train.export import export_model
        try:
            result = export_model(self.project, self.weights, self.fmt, self.path)
        except Exception as e:  # noqa: BLE001 - reported in a dialog, never a dead thread
            self.done.emit(None, str(e) or type(e).__name__)
            return
        self.done.emit(result, "")


class ExportActions(QObject):
    """Owns the Export menu's actions; `set_source()` after each run."""

    export_finished = Signal(object, str)   # ExportResult or None, error text

    def __init__(self, window, menu, parent=None):
        super().__init__(parent)
        self.window = window
        self.menu = menu
        self._project = None
        self._weights = None
        self._thread: ExportThread | None = None
        self._done = None
        self.actions: dict[str, QAction] = {}
        menu.setToolTipsVisible(True)
        menu.clear()
        for fmt, text, _suffix, _filter in FORMATS:
            a = QAction(text, menu)
            a.setData(fmt)
            a.triggered.connect(self._on_triggered)
            menu.addAction(a)
            self.actions[fmt] = a
        self.set_source(None, None)

    def set_source(self, project, model) -> None:
        """The trained project snapshot and its model (None: nothing trained)."""
        self._project = project
        self._weights = None
        if model is not None:
            # A private copy: the Results tab may run the live model meanwhile.
            self._weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        self._update_enabled()

    def _update_enabled(self) -> None:
        ready = self._weights is not None and self._thread is None
        for a in self.actions.values():
            a.setEnabled(ready)
            a.setToolTip("" if ready else (NOT_TRAINED if self._weights is None else "An export is running"))

    @Slot()
    def _on_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.export(action.data())

    def suggested_path(self, fmt: str) -> str:
        suffix = next(f[2] for f in FORMATS if f[0] == fmt)
        project = self.window.project
        base = project.path.parent if project.path else Path.home()
        stem = (project.path.name.removesuffix(".studio.json").removesuffix(".json")
                if project.path else (self._project.name if self._project else "model"))
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem) or "model"
        return str(base / f"{stem}{suffix}")

    def export(self, fmt: str, path: str | None = None) -> bool:
        """Ask for a file name (unless given) and export in the background."""
        if self._weights is None or self._thread is not None:
            return False
        _f, text, suffix, filt = next(f for f in FORMATS if f[0] == fmt)
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, f"Export {text.rstrip('…')}",
                                                  self.suggested_path(fmt), f"{filt};;All files (*)")
            if not path:
                return False
            if not Path(path).suffix:
                path += suffix
        self._thread = ExportThread(self._project, self._weights, fmt, path, self)
        self._thread.done.connect(self._on_done)
        self._thread.finished.connect(self._on_thread_finished)
        self._update_enabled()
        self.window.show_status(f"Exporting {Path(path).name}…", 0)
        self._thread.start()
        return True

    @Slot(object, str)
    def _on_done(self, result, error: str) -> None:
        self._done = (result, error)  # reported once the thread has finished

    def _report(self, result, error: str) -> None:
        if result is None:
            self._fail(error)
        elif not getattr(result, "verified", False):
            self._fail(f"The export did not verify, so nothing was written: {result.message}")
        else:
            diff = getattr(result, "max_abs_diff", None)
            check = f" (verified: outputs match within {diff:.1e})" if isinstance(diff, float) else " (verified)"
            extra = getattr(result, "extra_paths", ())
            also = f" and {', '.join(Path(p).name for p in extra)}" if extra else ""
            self.window.show_status(f"Exported to {result.path}{also}{check}", 15000)

    def _fail(self, text: str) -> None:
        self.window.show_status("Export failed", 10000)
        self.show_failure(text)

    def show_failure(self, text: str) -> None:
        """A dialog; tests replace this method."""
        QMessageBox.warning(self.window, "Export failed", text)

    @Slot()
    def _on_thread_finished(self) -> None:
        t, self._thread = self._thread, None
        if t is not None:
            t.deleteLater()
        self._update_enabled()
        result, error = self._done or (None, "The export thread ended unexpectedly")
        self._done = None
        self._report(result, error)
        self.export_finished.emit(result, error)

    def wait(self, ms: int = 30000) -> None:
        if self._thread is not None:
            self._thread.wait(ms)
