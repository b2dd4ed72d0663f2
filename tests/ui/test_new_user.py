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


# 3. A sample opens untitled and clean: closing it untouched asks nothing; Save asks for a path.
def test_sample_opens_clean_and_save_asks_for_a_path(window, monkeypatch, tmp_path):
    _open_sample_via_dialog(window, monkeypatch)
    assert window.project.path is None and not window.isWindowModified()
    assert window.windowTitle() == "Shapes CNN[*] — Studio"
    asked = []
    monkeypatch.setattr(window, "ask_save_changes", lambda: asked.append(1))
    assert window.confirm_discard() and asked == []
    target = tmp_path / "mine.studio.json"
    monkeypatch.setattr(window, "ask_save_path", lambda: asked.append("path") or str(target))
    before = SAMPLE.read_bytes()
    window.actions_.save.trigger()
    assert asked == ["path"] and target.exists() and SAMPLE.read_bytes() == before


# 8. Save As names an unnamed project after the file (exports take project.name); a chosen name stays.
def test_save_as_names_the_project_after_the_file(window, monkeypatch, tmp_path):
    import json
    window.canvas.add_layer("Input")
    first, second = tmp_path / "my_net.studio.json", tmp_path / "renamed.studio.json"
    monkeypatch.setattr(window, "ask_save_path", lambda: str(first))
    window.actions_.save_as.trigger()
    assert json.loads(first.read_text())["name"] == "my_net"
    assert window.windowTitle() == "my_net[*] — Studio"
    monkeypatch.setattr(window, "ask_save_path", lambda: str(second))
    window.actions_.save_as.trigger()  # it followed the file name, so it follows again
    assert json.loads(second.read_text())["name"] == "renamed"
    _open_sample_via_dialog(window, monkeypatch)
    monkeypatch.setattr(window, "ask_save_path", lambda: str(tmp_path / "copy.studio.json"))
    window.actions_.save_as.trigger()  # a sample's own name was chosen by its author
    assert json.loads((tmp_path / "copy.studio.json").read_text())["name"] == "Shapes CNN"


# 6. The memory pre-check counts no batch larger than the training set.
def test_memory_precheck_caps_the_batch_at_the_dataset(window, qtbot, tmp_path):
    from tests.ui import run_testkit
    assert window.open_path(run_testkit.shapes_project_file(tmp_path / "proj"), confirm=False)
    panel = window.run_panel
    run_testkit.quick(panel, samples=200, epochs=1, batch_size=999_999)
    with qtbot.waitSignal(panel.run_finished, timeout=120000):
        assert panel.train()
        assert "batch of 160 " in panel.check_label.text(), panel.check_label.text()
        assert "may not fit" not in panel.checks.message.text()
    assert "batch of 160 " in panel.check_label.text()
    panel.shutdown(10000)


def test_precheck_of_a_table_uses_its_loaded_size():
    from studio.project.file import Project
    from studio.ui.run.precheck import expected_train_examples, precheck
    project = Project()
    project.data.dataset, project.train.batch_size = "csv", 999_999
    assert expected_train_examples(project.data) is None
    check = precheck(project, train_examples=1437)
    assert check.batch == 1437 and check.fits


# 5. A dataset error is shown whole (wrapped, or one click away), never as a traceback.
def test_dataset_error_is_shown_whole_without_a_traceback(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox
    from tests.ui import run_testkit
    assert window.open_path(run_testkit.shapes_project_file(tmp_path / "proj"), confirm=False)
    panel = window.run_panel
    run_testkit.quick(panel, samples=200, epochs=1)
    missing = tmp_path / "no" / "such" / "photos"
    run_testkit.set_setting(panel, "data", "dataset", "image_folder")
    run_testkit.set_setting(panel, "data", "path", str(missing))
    with qtbot.waitSignal(panel.run_finished, timeout=60000) as blocker:
        assert panel.train()
    error = blocker.args[0].error
    assert error is not None and len(error.message) > 60
    qtbot.wait(10)
    bar = panel.checks
    assert bar.message.text() == f"Training failed: {error.message}"
    assert "Traceback" not in bar.message.toolTip() and 'File "' not in bar.message.toolTip()
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a: shown.append(a[2]))
    if bar.overflows():  # cut off by the bar's fixed height: the whole text is a click away
        assert bar.details_button.isVisible()
        bar.details_button.click()
        assert shown == [bar.message.text()]
    panel.resize(panel.width(), 200)
    qtbot.wait(10)
    assert bar.details_button.isVisible() == bar.overflows()
    panel.shutdown(10000)


# 4. A run's status does not outlive its project; an edit marks its results as stale.
def test_run_status_is_cleared_on_new_and_marked_stale_after_an_edit(window, qtbot, tmp_path):
    from PySide6.QtCore import QPointF
    from tests.ui import run_testkit
    assert window.open_path(run_testkit.shapes_project_file(tmp_path / "proj"), confirm=False)
    panel = window.run_panel
    run_testkit.quick(panel, samples=200, epochs=1)
    with qtbot.waitSignal(panel.run_finished, timeout=120000):
        assert panel.train()
    assert panel.progress.format().startswith("Finished") and panel.val_label.text()
    results_before = panel.val_label.text()
    assert not panel.results.stale.isVisible()
    testkit.drop_layer(window, "ReLU", QPointF(0, 400))  # the user edits the network
    assert panel.progress.format() != "" and "train again" in panel.progress.format()
    assert panel.val_label.text() == f"{results_before} (before your edit)"
    assert panel.results.stale.isVisibleTo(panel.results)
    window.actions_.new.trigger()
    assert panel.progress.format() == "" and panel.progress.value() == 0
    assert panel.speed_label.text() == "" and panel.val_label.text() == ""
    assert not panel.results.stale.isVisibleTo(panel.results)
    panel.shutdown(10000)


# 9. Ctrl+L on a 14-layer chain wraps it into rows; F then shows every card at a readable zoom.
def test_auto_layout_wraps_a_long_chain_and_fit_stays_readable(window, qtbot):
    from PySide6.QtCore import QPointF
    layers = [("Input", {})] + [("Linear", {}), ("ReLU", {})] * 6 + [("Output", {})]
    assert len(layers) == 14
    ids = testkit.build_chain(window, layers, origin=QPointF(0, 0))
    canvas = window.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    m = window.project.model
    rows = {m.pos(n)[1] for n in ids}
    assert len(rows) >= 3 and max(m.pos(n)[0] for n in ids) - min(m.pos(n)[0] for n in ids) <= 4 * 260
    assert [m.pos(n) for n in ids] == sorted((m.pos(n) for n in ids), key=lambda p: (p[1], p[0]))
    qtbot.keyClick(canvas, Qt.Key.Key_F)
    assert canvas.zoom() >= 0.5, canvas.zoom()
    view_rect = canvas.viewport().rect()
    for n in ids:
        assert view_rect.contains(canvas.mapFromScene(canvas.node_scene_rect(n)).boundingRect()), n


def _click_badge(window, nid):
    from PySide6.QtCore import QEvent, QPointF
    canvas = window.canvas
    badge = canvas.node_item(nid).badge
    assert badge.isVisible()
    at = badge.sceneBoundingRect().center()
    canvas.centerOn(at)
    p = QPointF(canvas.mapFromScene(at))
    testkit._mouse(canvas.viewport(), QEvent.Type.MouseButtonPress, p, Qt.MouseButton.LeftButton)
    testkit._mouse(canvas.viewport(), QEvent.Type.MouseButtonRelease, p, Qt.MouseButton.NoButton)
    testkit._process()


# 10a. The one-click Flatten fix moves nothing it does not have to (the other rows stay).
def test_flatten_fix_keeps_the_rest_of_the_net_in_place(window, qtbot, monkeypatch):
    _open_sample_via_dialog(window, monkeypatch)
    m, canvas = window.project.model, window.canvas
    testkit.select(window, "flatten1")
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    testkit.drag_wire(window, "maxpool2d2", "linear1")
    assert canvas.node_item("linear1").fixes()
    before = {n: m.pos(n) for n in m.nodes()}
    qtbot.keyClick(canvas, Qt.Key.Key_F)
    _click_badge(window, "linear1")
    (flat,) = [n for n in m.nodes() if m.type_of(n) == "Flatten"]
    assert {n: m.pos(n) for n in before} == before  # the gap held it: nothing moved
    (px, py), ly = before["maxpool2d2"], before["linear1"][1]
    assert ly > py  # the wire wraps from the end of one row to the start of the next ...
    assert m.pos(flat)[1] == py and px < m.pos(flat)[0] < px + 300  # ... and the fix takes the gap after the pool
    # Tight cards (the user dragged Linear and ReLU up to the pool): only the rest
    # of that row moves right; the row below stays.
    from studio.ui.editor.canvas.commands import MoveNodes
    window.undo_stack.undo()
    canvas.push(MoveNodes(m, {"linear1": (m.pos("linear1"), (px + 180, py)),
                              "relu3": (m.pos("relu3"), (px + 430, py))}))
    before = {n: m.pos(n) for n in m.nodes()}
    _click_badge(window, "linear1")
    assert m.pos("linear1")[0] > px + 180 and m.pos("relu3")[0] > px + 430
    assert all(m.pos(n) == before[n] for n in ("linear2", "output1", "input1", "maxpool2d2"))


# 10b. An LSTM fed an image offers both cures: read the image by rows, or make the Input a sequence.
@pytest.mark.parametrize("choice", ["rows", "sequence"])
def test_lstm_fed_an_image_offers_both_fixes(window, qtbot, choice):
    from PySide6.QtCore import QPointF
    ids = testkit.build_chain(window, [("Input", {}), ("LSTM", {}), ("Linear", {"out_features": 4}),
                                       ("Output", {})], origin=QPointF(0, 0))
    m, canvas = window.project.model, window.canvas
    assert m.params(ids[0])["kind"] == "image"
    assert len(canvas.node_item(ids[1]).fixes()) == 2
    assert " or " in canvas.node_item(ids[1]).badge.toolTip()
    _click_badge(window, ids[1])
    menu = canvas.fix_menu
    assert menu is not None and menu.isVisible()
    labels = [a.text() for a in menu.actions()]
    assert labels == ["Insert Image rows", "Make the Input a sequence (T×F)"], labels
    menu.actions()[0 if choice == "rows" else 1].trigger()
    menu.close()
    if choice == "rows":
        assert "ImageRows" in {m.type_of(n) for n in m.nodes()}
    else:
        assert m.params(ids[0])["kind"] == "sequence" and len(m) == 4
    assert canvas.problems() == []
