import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The user's block library is never read or written by tests (tests that save set their own).
if "STUDIO_BLOCKS_DIR" not in os.environ:
    os.environ["STUDIO_BLOCKS_DIR"] = tempfile.mkdtemp(prefix="studio-test-blocks-")
    atexit.register(shutil.rmtree, os.environ["STUDIO_BLOCKS_DIR"], True)

import torch  # noqa: E402

# Tests are small; one intra-op thread avoids oversubscribing shared CI cores.
torch.set_num_threads(1)


def _never_block_on_dialogs() -> None:
    """Modal dialogs hang an offscreen test run forever (no one clicks, and a C++
    event loop never lets pytest-timeout's signal through). Tests that expect a
    question patch it themselves; anything left over — for instance qtbot closing
    a dirty window at teardown, after monkeypatch has been undone — gets a safe,
    non-destructive answer instead of a hang."""
    try:
        from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox
    except ImportError:
        return
    Btn = QMessageBox.StandardButton
    QMessageBox.question = staticmethod(lambda *a, **k: Btn.Discard if "Unsaved" in str(a[1:2]) else Btn.No)
    QMessageBox.critical = staticmethod(lambda *a, **k: Btn.Ok)
    QMessageBox.warning = staticmethod(lambda *a, **k: Btn.Ok)
    QMessageBox.information = staticmethod(lambda *a, **k: Btn.Ok)
    QMessageBox.exec = lambda self: int(Btn.Cancel)
    QDialog.exec = lambda self: 0
    QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: ("", ""))
    QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: ("", ""))
    QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: "")
    try:
        from studio.ui.shell.main_window import MainWindow
    except ImportError:
        return
    MainWindow.ask_save_changes = lambda self: Btn.Discard
    MainWindow.ask_stop_training = lambda self: True


_never_block_on_dialogs()
