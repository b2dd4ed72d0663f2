"""File ▸ Export: the last trained model in six formats, each written and then
verified by studio.train.export.export_model (on the GUI thread, under a wait
cursor: see `export`), then checked against the in-app model on the
validation set (studio.train.parity). The source is the run just trained or,
after opening a project, its latest run saved on disk, or the run selected in
the run list. The actions stay disabled until there is one, with a tooltip
saying so."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

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

    def __init__(self, project, weights, fmt: str, path: str, parent=None, meta=None, dataset=None,
                 run_folder=None):
        super().__init__(parent)
        self.project, self.weights, self.fmt, self.path = project, weights, fmt, path
        self.meta, self.dataset, self.run_folder = meta, dataset, run_folder

    def run(self) -> None:
        from studio.train.export import export_model
        try:
            result = export_model(self.project, self.weights, self.fmt, self.path, meta=self.meta)
        except Exception as e:  # noqa: BLE001 - reported in a dialog, never a dead thread
            self.done.emit(None, str(e) or type(e).__name__)
            return
        if result.verified:
            result.parity = self._parity(result)
        self.done.emit(result, "")

    def _parity(self, result):
        """The export against the in-app model on the validation set; None when the
        data cannot be had (the export itself stands)."""
        from studio.train.export import prepared_model
        from studio.train.parity import check_parity, store_parity
        try:
            dataset = self.dataset
            if dataset is None:
                from studio.train.parity import validation_data
                dataset = validation_data(self.project.data)
            parity = check_parity(self.fmt, result.path, self.project, prepared_model(self.project, self.weights),
                                  dataset, result.info)
            if self.run_folder is not None:
                store_parity(self.run_folder, parity)
            return parity
        except Exception:  # noqa: BLE001 - no data here (e.g. moved): report the export without it
            return None


class ExportActions(QObject):
    """Owns the Export menu's actions; `set_source()` after each run."""

    export_finished = Signal(object, str)   # ExportResult or None, error text

    def __init__(self, window, menu, parent=None):
        super().__init__(parent)
        self.window = window
        self.menu = menu
        self._project = None
        self._weights = None
        self._meta = self._dataset = self._run_folder = None
        self.source_text = ""
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

    def set_source(self, project, model, dataset=None, run_folder=None) -> None:
        """The trained project snapshot and its model (None: nothing trained);
        `dataset` gives the class names and normalization that travel with the export."""
        from studio.train.run_files import meta_for
        self._project = project
        self._weights = None
        self._dataset, self._run_folder = dataset, run_folder
        self._meta = meta_for(project, dataset) if (project is not None and dataset is not None) else None
        self.source_text = "the run just trained" if model is not None else ""
        if model is not None:
            # A private copy: the Results tab may run the live model meanwhile.
            self._weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        self._update_enabled()

    def use_saved_run(self, runs_dir, number: int | None = None) -> None:
        """Export the saved run `number` of `runs_dir` (None: the latest there is);
        a run without saved weights leaves the source as it was."""
        from studio.train.saved_runs import latest_saved_run, saved_run
        if number is None:
            self.set_saved_source(latest_saved_run(runs_dir))
        elif runs_dir is not None and (source := saved_run(Path(runs_dir) / f"run-{number:03d}")) is not None:
            self.set_saved_source(source)

    def set_saved_source(self, source) -> None:
        """A run reloaded from disk (saved_runs.SavedRun), or None."""
        if source is None:
            self.set_source(None, None)
            return
        self._project, self._weights, self._meta = source.project, source.weights, source.meta
        self._dataset, self._run_folder = None, source.folder
        self.source_text = source.label
        self._update_enabled()

    def _update_enabled(self) -> None:
        ready = self._weights is not None and self._thread is None
        for a in self.actions.values():
            a.setEnabled(ready)
            a.setToolTip((f"Exports {self.source_text}" if self.source_text else "") if ready
                         else (NOT_TRAINED if self._weights is None else "An export is running"))

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
        """Ask for a file name (unless given), export, verify and check parity; the
        result is reported in the status bar or a dialog and by `export_finished`."""
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
        self._thread = ExportThread(self._project, self._weights, fmt, path, self, meta=self._meta,
                                    dataset=self._dataset, run_folder=self._run_folder)
        self._thread.done.connect(self._on_done)
        self._thread.finished.connect(self._on_thread_finished)
        self._update_enabled()
        self.window.show_status(f"Exporting {Path(path).name}…", 0)
        # On the GUI thread, with a wait cursor: torch.export and the ONNX exporter import
        # modules while they trace, and such an import in a worker thread deadlocked against
        # PySide's import hook while the plots redrew (seen in a test run).
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        QApplication.processEvents()
        try:
            self._thread.run()
        finally:
            QApplication.restoreOverrideCursor()
        self._on_thread_finished()
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
            parity = getattr(result, "parity", None)
            if parity is not None and not parity.ok:
                self._fail(f"{result.path} was written, but it does not match the app on the validation "
                           f"set: {parity.line()}")
                return
            if parity is not None and parity.top1_agreement is not None:
                check += (f"; same top-1 as the app on {parity.top1_agreement * 100:.0f}% of "
                          f"{parity.examples} validation examples")
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
