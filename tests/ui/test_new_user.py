"""Regression tests for what a new user hit (issue 12), driven through the UI as they did."""
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.ui import testkit

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "shapes_cnn.studio.json"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch)


def _open_sample_via_dialog(window, monkeypatch, path=SAMPLE):
    from studio.ui.shell import samples_dialog
    monkeypatch.setattr(samples_dialog.SamplesDialog, "exec", lambda self: 1)
    monkeypatch.setattr(samples_dialog.SamplesDialog, "selected_path", lambda self: path)
    window.actions_.open_sample.trigger()


# 1. Replacing the project while a layer is selected: no "NodeItem already deleted".
@pytest.mark.parametrize("how", ["new", "open", "recent", "sample"])
def test_replacing_the_project_with_a_layer_selected(window, qtbot, monkeypatch, tmp_path, how):
    target = tmp_path / "other.studio.json"
    target.write_bytes(SAMPLE.read_bytes())
    window.document.add_recent(target)
    assert window.open_path(SAMPLE, confirm=False)
    testkit.select(window, "conv2d1")
    assert window.canvas.selected_nodes() == ["conv2d1"]
    if how == "new":
        window.actions_.new.trigger()
    elif how == "open":
        monkeypatch.setattr(window, "ask_open_path", lambda: str(target))
        window.actions_.open.trigger()
    elif how == "recent":
        window.fill_recent_menu()
        window.menu_recent.actions()[0].trigger()
    else:
        _open_sample_via_dialog(window, monkeypatch)
    qtbot.wait(10)
    assert window.canvas.selected_nodes() == [] and window.inspector.node_id is None
    assert window.errors == []


# 2. After the quick-add popup closes (Escape, or a pick) the keyboard belongs to the canvas again.
@pytest.mark.parametrize("close", ["escape", "pick"])
def test_shortcuts_work_after_quick_add_closes(window, qtbot, close):
    from PySide6.QtWidgets import QApplication
    canvas = window.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    popup = canvas.quick_add_popup()
    assert popup is not None and popup.search.hasFocus()
    if close == "escape":
        qtbot.keyClick(popup.search, Qt.Key.Key_Escape)
    else:
        qtbot.keyClicks(popup.search, "relu")
        qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    qtbot.wait(10)
    assert canvas.quick_add_popup() is None
    focus = QApplication.focusWidget()
    assert focus is canvas, focus
    window.canvas.add_layer("Linear")
    qtbot.keyClick(focus, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(canvas.selected_nodes()) == len(window.project.model) >= 1
