"""Sweeps in the app, driven through the real widgets: mark a layer parameter in
the inspector and a setting in the run settings, run a 4-trial sweep in the
app's worker, look at the results, and open the best trial as a project."""
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.project.file import load
from tests.sweep.sweep_helpers import spiral_doc
from tests.ui.testkit import make_window

ART = Path(__file__).resolve().parents[1] / "_artifacts"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    doc = spiral_doc([], epochs=3, samples=300)
    del doc["sweep"]
    path = tmp_path / "moons.studio.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    w = make_window(qtbot, tmp_path, monkeypatch)
    assert w.open_path(str(path), confirm=False)
    return w


def _mark(qtbot, marker, **fields):
    qtbot.mouseClick(marker, Qt.MouseButton.LeftButton)
    dlg = marker.dialog
    assert dlg is not None and dlg.isVisible()
    if "choices" in fields:
        dlg.list_button.setChecked(True)
        dlg.choices.setText(fields["choices"])
    else:
        dlg.range_button.setChecked(True)
        dlg.low.setText(fields["low"])
        dlg.high.setText(fields["high"])
        dlg.log.setChecked(fields.get("log", False))
    dlg.accept()
    return dlg


def test_mark_run_four_trials_and_open_the_best(window, qtbot, monkeypatch):
    w = window
    w.canvas.select_nodes(["linear1"])
    qtbot.waitUntil(lambda: "out_features" in w.inspector.editors)
    # The inspector's marker beside the Units editor.
    marker = w.inspector.editors["out_features"].widget.parentWidget().findChild(type(
        w.run_panel.setting_markers["training.lr"]))
    assert marker is not None and marker.key == "linear1.out_features"
    # A refused range keeps the dialog open with the reason.
    qtbot.mouseClick(marker, Qt.MouseButton.LeftButton)
    marker.dialog.low.setText("32")
    marker.dialog.high.setText("4")
    marker.dialog.accept()
    assert marker.dialog.isVisible() and "is empty" in marker.dialog.error.text()
    marker.dialog.reject()
    _mark(qtbot, marker, low="4", high="32", log=True)
    assert marker.isChecked() and "4 … 32" in marker.toolTip()
    ART.mkdir(exist_ok=True)
    w.inspector.grab().save(str(ART / "sweep_inspector_marker.png"))
    # A training setting from the run settings form.
    _mark(qtbot, w.run_panel.setting_markers["training.lr"], choices="0.000001, 0.03")
    space = w.project.sweep
    assert [d.key for d in space.dimensions] == ["linear1.out_features", "training.lr"]
    w.run_panel.form.grab().save(str(ART / "sweep_settings_marker.png"))
    assert w.document.dirty
    w.undo_stack.undo()  # undoable like any edit
    assert [d.key for d in w.project.sweep.dimensions] == ["linear1.out_features"]
    w.undo_stack.redo()

    panel = w.sweep_panel
    w.run_panel.tabs.setCurrentWidget(panel.parentWidget().parentWidget())  # the tab's scroll area
    panel.strategy.setCurrentIndex(panel.strategy.findData("random"))
    panel.strategy.activated.emit(panel.strategy.currentIndex())
    panel.trials.setValue(4)
    panel.prune.setChecked(False)
    assert w.project.sweep.trials == 4 and w.project.sweep.strategy == "random"
    assert w.save()
    saved = load(w.project.path)
    assert saved.sweep.trials == 4 and len(saved.sweep.dimensions) == 2

    # While trials run, only the sweep's thread reads the study's storage (SQLAlchemy under
    # two threads crashed once); the table still follows trial by trial.
    import threading

    from studio.sweep import results as sweep_results
    reads, real_load = [], sweep_results.load

    def recording_load(*args):
        reads.append((threading.current_thread() is threading.main_thread(), panel.session.running))
        return real_load(*args)
    monkeypatch.setattr(sweep_results, "load", recording_load)
    shown = []
    panel.session.results.connect(lambda found: shown.append(len(found.rows)))
    with qtbot.waitSignal(panel.session.finished, timeout=240_000) as done:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert panel.stop_button.isEnabled() and not w.run_panel.train_action.isEnabled()
    assert done.args[0]["error"] == "" and done.args[0]["ran"] == 4
    assert not [r for r in reads if r == (True, True)]  # the GUI thread, mid-run: never
    assert sum(1 for main, _ in reads if not main) == 8 and shown[-1] == 4  # each trial's start and end
    assert w.run_panel.train_action.isEnabled()
    results = panel.results
    table = results.table
    assert table.rowCount() == 4
    best = results.results.best()
    assert best is not None and "Best: trial" in panel.status.text()
    # Sorting by the value column puts the best trial on top.
    table.sortItems(2, Qt.SortOrder.DescendingOrder)
    assert table.item(0, 0).data(Qt.ItemDataRole.UserRole) == best.number
    assert results.selected_row().number == best.number  # the panel selected the best trial
    assert len(results.curves.getPlotItem().listDataItems()) == 4
    assert results.front_numbers and best.number in results.front_numbers
    ART.mkdir(exist_ok=True)
    w.resizeDocks([w.run_dock], [620], Qt.Orientation.Vertical)  # room to look at the results
    for i, name in enumerate(("curves", "cost", "importance")):
        results.charts.setCurrentIndex(i)
        qtbot.wait(50)
        panel.grab().save(str(ART / f"sweep_results_{name}.png"))

    with qtbot.waitSignal(w.project_replaced, timeout=10_000):
        qtbot.mouseClick(results.open_button, Qt.MouseButton.LeftButton)
    opened = w.project
    assert opened.path is None and opened.sweep is None  # an untitled copy of the trial
    assert opened.model.params("linear1")["out_features"] == best.params["linear1.out_features"]
    assert opened.train.lr == best.params["training.lr"]
    w.grab().save(str(ART / "sweep_opened_best.png"))


def test_a_layer_inside_a_block_is_marked_by_its_path(window, qtbot):
    w = window
    w.canvas.select_nodes(["linear1"])
    blk = w.canvas.make_block()
    assert blk is not None
    w.canvas.open_block(blk)
    body = w.project.model.body(blk)
    inner = [n for n in body.nodes() if body.type_of(n) == "Linear"][0]
    w.canvas.select_nodes([inner])
    qtbot.waitUntil(lambda: "out_features" in w.inspector.editors)
    marker = w.inspector.editors["out_features"].widget.parentWidget().findChild(type(
        w.run_panel.setting_markers["training.lr"]))
    assert marker is not None and marker.key == f"{blk}/{inner}.out_features"
    _mark(qtbot, marker, choices="8, 24")
    assert [d.key for d in w.project.sweep.dimensions] == [f"{blk}/{inner}.out_features"]
    assert marker.isChecked() and "{8, 24}" in marker.toolTip()
    ART.mkdir(exist_ok=True)
    w.inspector.grab().save(str(ART / "sweep_marker_inside_block.png"))
    assert w.save()
    saved = load(w.project.path)
    assert saved.sweep.dimensions[0].node == f"{blk}/{inner}"
    w.undo_stack.undo()  # the mark is one undo step
    assert not w.project.sweep or not w.project.sweep.dimensions
