"""The canvas is the heart of the window: dock sizes at 1400×900, the
training dock's toggle, plots that fit a short dock, and windows that can be
deleted with edits on their undo stack."""
import gc

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from tests.ui import testkit


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch, size=(1400, 900))


def test_default_layout_gives_the_canvas_most_of_the_window(window, qtbot):
    qtbot.wait(20)  # the deferred dock sizing
    assert 260 <= window.run_dock.height() <= 330
    assert window.canvas.height() >= 450, "the canvas gets most of the height"
    assert window.run_dock.minimumSizeHint().height() <= 240, "the training dock may be made short"
    assert 200 <= window.palette_dock.width() <= 240
    assert 280 <= window.inspector_dock.width() <= 320
    assert window.canvas.width() >= 800


def test_plots_share_one_row_in_a_short_dock_and_go_two_by_two_in_a_tall_one(window, qtbot):
    plots = window.run_panel.plots
    qtbot.wait(20)
    assert plots.one_row
    window.resizeDocks([window.run_dock], [620], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: plots.one_row is False)
    window.resizeDocks([window.run_dock], [300], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: plots.one_row is True)
    curves = window.run_panel.tabs.widget(0)
    assert curves.widget().height() <= curves.viewport().height(), "no scrolling at the default height"


def test_ctrl_j_collapses_and_restores_the_training_dock(window, qtbot):
    toggle = window.run_dock.toggleViewAction()
    assert toggle in window.menu_view.actions()
    assert toggle.shortcut().toString() == "Ctrl+J"
    canvas_before = window.canvas.height()
    qtbot.keyClick(window, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert not window.run_dock.isVisible()
    qtbot.waitUntil(lambda: window.canvas.height() > canvas_before + 200)
    qtbot.keyClick(window, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert window.run_dock.isVisible()


@pytest.mark.parametrize("delete", ["later", "unreferenced"])
def test_a_deleted_window_with_edits_raises_nothing_later(qtbot, tmp_path, monkeypatch, delete):
    """Slots on the undo stack's signals must die with the window (no lambdas):
    the stack emits while it is destroyed, after the window's actions are gone."""
    from studio.ui.shell.main_window import MainWindow
    testkit.use_temp_settings(tmp_path / "settings")
    w = MainWindow(dark=False)  # not given to qtbot: it is deleted here, not at teardown
    w.show()
    w.canvas.add_layer("Input")
    w.canvas.add_layer("ReLU")
    w.undo_stack.undo()
    assert w.undo_stack.count() == 2
    w.hide()
    w.run_panel.shutdown()
    if delete == "later":
        w.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    else:  # the last reference goes: Python deletes the C++ window at once
        del w
        gc.collect()
    # pytest-qt fails this test if any slot raised during the deletion
    again = testkit.make_window(qtbot, tmp_path, monkeypatch)
    again.canvas.add_layer("Input")
    assert again.actions_.undo.isEnabled()
