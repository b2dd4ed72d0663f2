"""Application entry: QApplication setup, the theme, an exception hook that
logs to a file and shows a dialog instead of letting the app die, and main()."""
from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger("studio")


def log_path() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    folder = Path(base) if base else Path.home() / ".studio"
    return folder / "logs" / "studio.log"


class ExceptionHook:
    """Replaces sys.excepthook: an unexpected error becomes a log entry and a
    dialog. Re-entrant errors (from the dialog itself) only get logged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._showing = False
        self.previous = sys.excepthook

    def write_log(self, text: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(text + "\n")
        except OSError:
            sys.stderr.write(text + "\n")

    def __call__(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        self.write_log(text)
        sys.stderr.write(text)
        if self._showing or QApplication.instance() is None:
            return
        self._showing = True
        try:
            self.show_dialog(f"{exc_type.__name__}: {exc}", text)
        finally:
            self._showing = False

    def show_dialog(self, summary: str, details: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "Unexpected error",
                          "Something went wrong. Your work is still open; saving now is a good idea.")
        box.setInformativeText(f"{summary}\n\nDetails were written to {self.path}")
        box.setDetailedText(details)
        box.exec()


def create_app(argv: list[str]) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(["studio", *argv])
    app.setOrganizationName("Studio")
    app.setApplicationName("Studio")
    app.setApplicationDisplayName("Studio")
    from studio.ui.style.icons import app_icon
    app.setWindowIcon(app_icon())
    return app


def configure_logging() -> None:
    """Studio's own INFO lines; other libraries only warnings. A root logger at INFO
    let torch.onnx/onnxscript print about ten INFO lines per ONNX export."""
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger().setLevel(logging.WARNING)  # also when a handler was there before
    logging.getLogger("studio").setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from studio.ui.shell import platform_check
    problem = platform_check.problem()
    if problem:  # Qt would abort inside QApplication() with a message naming no package
        print(problem, file=sys.stderr)
        return 2
    app = create_app(argv)
    hook = ExceptionHook(log_path())
    sys.excepthook = hook
    configure_logging()
    from studio.ui.shell.main_window import MainWindow
    window = MainWindow()
    files = [a for a in argv if not a.startswith("-")]
    if files:
        window.open_path(files[0], confirm=False)
    from studio.ui.shell import recovery  # autosave, and the offer to restore work a crash left behind
    recovery.install(window)
    window.show()
    try:
        return app.exec()
    finally:
        sys.excepthook = hook.previous
