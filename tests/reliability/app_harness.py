"""The real app (studio.__main__.main, as `python -m studio` runs it) with a scripted
user, for the crash-recovery subprocess test. Run as a script; environment:

  HARNESS_ADD=<layer type>  once the restore question is answered, add this layer
                            through the canvas (an undoable edit, as a user would)
  HARNESS_REPORT=<path>     then write {"dirty", "path", "nodes"} of the document there
  HARNESS_QUIT=1            then close the window, discarding changes (a clean exit)

Other arguments go to studio's command line (e.g. a project file to open).
"""
from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.__main__ import main
from studio.ui.shell.app import create_app


def _window():
    from studio.ui.shell.main_window import MainWindow
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None)


def _act(timer: QTimer) -> None:
    w = _window()
    if w is None or not getattr(getattr(w, "autosaver", None), "restore_checked", False):
        return  # not started yet, or the restore question is still open
    timer.stop()
    if os.environ.get("HARNESS_ADD"):
        w.canvas.add_layer(os.environ["HARNESS_ADD"])
    if os.environ.get("HARNESS_REPORT"):
        doc = w.document
        report = {"dirty": doc.dirty, "path": str(doc.path) if doc.path else None,
                  "nodes": sorted(doc.project.model.nodes())}
        with open(os.environ["HARNESS_REPORT"], "w", encoding="utf-8") as f:
            json.dump(report, f)
    if os.environ.get("HARNESS_QUIT"):
        w.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
        w.close()


if __name__ == "__main__":
    create_app(sys.argv[1:])  # main() reuses this instance; the timer needs it first
    poll = QTimer()
    poll.setInterval(50)
    poll.timeout.connect(lambda: _act(poll))
    poll.start()
    sys.exit(main(sys.argv[1:]))
