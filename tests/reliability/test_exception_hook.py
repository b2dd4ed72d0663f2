"""An unexpected exception in a slot goes to the log file and a dialog that
points to it; the app keeps running (ExceptionHook from studio.ui.shell.app)."""
from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QMessageBox

from studio.ui.shell.app import ExceptionHook


@pytest.fixture
def hook(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(
        (box.text(), box.informativeText(), box.detailedText())) or 0)
    h = ExceptionHook(tmp_path / "logs" / "studio.log")
    monkeypatch.setattr(sys, "excepthook", h)
    h.shown = shown
    return h


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_is_logged_and_shown(window, hook, qtbot, monkeypatch):
    def broken_add(layer_type, *a, **k):
        raise RuntimeError(f"boom while adding {layer_type}")
    with monkeypatch.context() as broken:  # (monkeypatch.undo() would drop the fixtures' patches too)
        broken.setattr(window.canvas, "add_layer", broken_add)
        window.palette.layer_activated.emit("Dropout")   # the palette's signal runs the window's slot
        qtbot.waitUntil(lambda: bool(hook.shown), timeout=5000)
    log = hook.path.read_text()
    assert "Traceback" in log and "RuntimeError: boom while adding Dropout" in log
    (text, informative, details), = hook.shown
    assert str(hook.path) in informative and "boom while adding Dropout" in informative
    assert "Traceback" in details and "saving now is a good idea" in text
    # Still alive and editable.
    from studio.ui.editor.canvas.commands import AddNode
    window.undo_stack.push(AddNode(window.project.model, "ReLU", nid="relu9"))
    assert "relu9" in window.project.model.nodes()


@pytest.mark.qt_no_exception_capture
def test_an_error_while_showing_the_dialog_is_only_logged(hook, qtbot, monkeypatch):
    calls = []

    def failing_dialog(summary, details):
        calls.append(summary)
        raise ValueError("the dialog broke")  # must not recurse into another dialog forever
    monkeypatch.setattr(hook, "show_dialog", failing_dialog)
    try:
        raise KeyError("first")
    except KeyError:
        with pytest.raises(ValueError):
            hook(*sys.exc_info())
    assert len(calls) == 1 and "KeyError" in hook.path.read_text()
    assert not hook._showing  # the next error gets its dialog again


def test_the_log_falls_back_to_stderr_when_unwritable(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    h = ExceptionHook(blocker / "logs" / "studio.log")   # a folder under a file cannot exist
    h.write_log("something failed")
    assert "something failed" in capsys.readouterr().err
