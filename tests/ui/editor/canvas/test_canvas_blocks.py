"""Blocks on the canvas, driven like a user: the block card, double-click to go
inside, the breadcrumb back, edits inside re-inferring the card outside, undo
across block boundaries, and the block's name in the inspector."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from studio.graph import blocks
from studio.project.file import load, save
from tests.ui import testkit
from tests.ui.editor.canvas.conftest import Driver
from studio.ui.editor.canvas.block_item import BlockItem, count
from studio.ui.editor.canvas.layout import auto_layout
from studio.ui.editor.canvas.menus import build_context_menu

ROOT = Path(__file__).resolve().parents[4]
SAMPLE = ROOT / "samples" / "cifar10_cnn.studio.json"
ART = ROOT / "tests" / "_artifacts"


def blocky_project(tmp_path) -> Path:
    """The CIFAR CNN with its two conv stages as blocks (the second repeated-free),
    the first stage nested one level deeper, laid out again."""
    project = load(SAMPLE)
    m = project.model
    blocks.group(m, ["conv2d1", "relu1", "maxpool2d1"], name="Stage1", nid="stage1")
    blocks.group(m, ["conv2d2", "relu2", "maxpool2d2"], name="Stage2", nid="stage2")
    inner = m.body("stage1")
    blocks.group(inner, ["conv2d1", "relu1"], name="ConvReLU", nid="convrelu")
    for g in (m, inner, m.body("stage2")):
        for n, p in auto_layout(g).items():
            g.move(n, p)
    path = tmp_path / "blocky.studio.json"
    save(project, path)
    return path


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch)
    assert w.open_path(blocky_project(tmp_path), confirm=False)
    QApplication.processEvents()
    return w


def double_click(view, scene_pos: QPointF) -> None:
    d = Driver(view)
    d.click(scene_pos)
    d._send(QEvent.Type.MouseButtonDblClick, scene_pos, Qt.MouseButton.LeftButton,
            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    d.release(scene_pos)
    QApplication.processEvents()


def card_point(view, nid: str) -> QPointF:
    view.centerOn(view.node_scene_rect(nid).center())
    return Driver(view).body(nid)


def key(view, k, mods=Qt.KeyboardModifier.NoModifier) -> None:
    QApplication.sendEvent(view, QKeyEvent(QEvent.Type.KeyPress, k, mods))
    QApplication.processEvents()


def wire_label(view, src: str) -> str:
    m = view.model()
    (e,) = m.out_edges(src)
    return view.wire_item(e.id).label.shape_shown().label()


def test_block_card_shows_name_contents_and_weights(window):
    view = window.canvas
    card = view.node_item("stage1")
    assert isinstance(card, BlockItem) and not isinstance(view.node_item("flatten1"), BlockItem)
    assert card._title == "Stage1"
    assert card._contents == "1 block, 1 layer"
    weights = window.project.model.shapes.info["stage1"].weights
    assert weights == 3 * 32 * 9 + 32 and card._weights == "896 params"
    assert window.breadcrumb.isVisible() and window.breadcrumb.labels == ["Network"]
    assert window.breadcrumb.hint.isHidden()
    testkit.edit_param(window, "stage2", "repeat", 2)  # refused by validation only, shown anyway
    assert view.node_item("stage2")._repeat == "×2"
    testkit.edit_param(window, "stage1", "frozen", True)  # fine-tuning shows on the card
    assert view.node_item("stage1")._tune == " · frozen"
    testkit.edit_param(window, "stage1", "frozen", False)
    testkit.edit_param(window, "stage1", "lr_mult", 0.1)
    assert view.node_item("stage1")._tune == " · lr×0.1"


def test_double_click_enters_and_breadcrumb_returns(window, qtbot):
    view = window.canvas
    root = window.project.model
    view.resetTransform()
    view.scale(0.8, 0.8)
    outer_zoom = view.zoom()
    at = card_point(view, "stage1")
    centre = view.mapToScene(view.viewport().rect().center())  # where the outer level was left
    double_click(view, at)
    assert view.model() is root.body("stage1") and view.depth() == 1
    assert window.inspector.model is root.body("stage1")
    assert window.breadcrumb.labels == ["Network", "Stage1"]
    assert set(view._scene.nodes) == set(root.body("stage1").nodes())
    double_click(view, card_point(view, "convrelu"))
    assert window.breadcrumb.labels == ["Network", "Stage1", "ConvReLU"]
    assert view.model() is root.body("stage1").body("convrelu")
    if ART.is_dir() or ART.parent.is_dir():
        ART.mkdir(exist_ok=True)
        window.grab().save(str(ART / "blocks_inside.png"))
    window.breadcrumb.button(0).click()
    QApplication.processEvents()
    assert view.model() is root and view.depth() == 0
    assert abs(view.zoom() - outer_zoom) < 1e-6
    back = view.mapToScene(view.viewport().rect().center())
    assert (back - centre).manhattanLength() < 4  # whole scroll-bar steps
    assert view.selected_nodes() == ["stage1"]  # where the user came from
    assert window.inspector.model is root


def test_keys_and_menu_enter_and_leave(window):
    view = window.canvas
    root = window.project.model
    view.select_nodes(["stage2"])
    key(view, Qt.Key.Key_Return)
    assert view.model() is root.body("stage2")
    key(view, Qt.Key.Key_Escape)  # nothing selected: up
    assert view.model() is root and view.selected_nodes() == ["stage2"]
    key(view, Qt.Key.Key_Escape)  # first clears the selection, stays
    assert view.model() is root and view.selected_nodes() == []
    view.centerOn(view.node_scene_rect("stage1").center())
    at = view.mapFromScene(view.node_scene_rect("stage1").center())
    menu = build_context_menu(view, at)
    (open_,) = [a for a in menu.actions() if a.text() == "Open block"]
    open_.trigger()
    assert view.model() is root.body("stage1")
    key(view, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert view.model() is root
    view.open_block("stage1")
    n = len(root.body("stage1"))
    key(view, Qt.Key.Key_Backspace)  # nothing selected inside: up, nothing deleted
    assert view.model() is root and len(root.body("stage1")) == n and "stage1" in root.g


def test_inspector_open_button_enters(window):
    from PySide6.QtWidgets import QPushButton
    testkit.select(window, "stage2")
    window.inspector.findChild(QPushButton, "open_block").click()
    assert window.canvas.model() is window.project.model.body("stage2")


def test_open_button_on_the_card_enters(window):
    view = window.canvas
    button = view.node_item("stage2").open_button
    at = button.mapToScene(button.boundingRect().center())
    view.centerOn(at)
    Driver(view).click(at)
    assert view.model() is window.project.model.body("stage2")


def test_edit_inside_reinfers_outside_and_undoes_from_outside(window):
    view = window.canvas
    root = window.project.model
    before = wire_label(view, "stage2")
    assert before.startswith("64×")
    view.open_block("stage2")
    testkit.edit_param(window, "conv2d2", "out_channels", 48)
    assert window.undo_stack.undoText() == "Set out_channels"
    assert root.shapes.out("stage2").label() == before.replace("64", "48", 1)
    window.breadcrumb.button(0).click()
    assert view.model() is root
    assert wire_label(view, "stage2") == before.replace("64", "48", 1)
    assert view.node_item("stage2")._weights == f"{count(32 * 48 * 9 + 48)} params" == "13.9 k params"
    # the conv3 after it now misfits nothing (in_channels inferred); undo from outside
    window.actions_.undo.trigger()
    QApplication.processEvents()
    assert root.body("stage2").params("conv2d2")["out_channels"] == 64
    # the canvas went to where the change happened, so the user sees it
    assert view.model() is root.body("stage2") and window.breadcrumb.labels[-1] == "Stage2"
    window.breadcrumb.button(0).click()
    assert wire_label(view, "stage2") == before
    window.actions_.redo.trigger()
    assert view.model() is root.body("stage2")
    assert root.shapes.out("stage2").label() == before.replace("64", "48", 1)


def test_deleting_a_block_and_undo_restores_its_inside(window):
    view = window.canvas
    root = window.project.model
    body = root.body("stage1")
    before = testkit.structure(body.body("convrelu")), testkit.structure(body)
    out = root.shapes.out("stage1")
    view.open_block("stage1")
    view.open_block("convrelu")
    testkit.edit_param(window, "conv2d1", "out_channels", 40)
    view.go_to_level(0)
    view.select_nodes(["stage1"])
    view.delete_selected()
    assert "stage1" not in root.g
    window.actions_.undo.trigger()
    assert root.body("stage1") is body
    window.actions_.undo.trigger()  # the edit two levels down, undone through the restored block
    assert view.model() is body.body("convrelu")
    assert (testkit.structure(body.body("convrelu")), testkit.structure(body)) == before
    assert root.shapes.out("stage1") == out


def test_undo_that_removes_the_shown_block_goes_up(window):
    view = window.canvas
    root = window.project.model
    view.select_nodes(["stage2"])
    view.delete_selected()
    window.actions_.undo.trigger()
    view.open_block("stage2")
    window.actions_.redo.trigger()  # deletes stage2 again while it is shown
    assert "stage2" not in root.g
    assert view.model() is root and view.depth() == 0
    assert window.breadcrumb.labels == ["Network"]
    window.actions_.undo.trigger()
    assert "stage2" in view._scene.nodes


def test_problems_inside_show_on_the_card_outside_and_inside(window):
    view = window.canvas
    root = window.project.model
    view.open_block("stage2")
    body = root.body("stage2")
    (e,) = body.in_edges("conv2d2")
    view.select_nodes([])
    view._scene.wires[e.id].setSelected(True)
    view.delete_selected()  # the conv inside loses its input
    QApplication.processEvents()
    assert view.node_item("conv2d2").problems  # inside: the body's own problems
    view.go_up()
    QApplication.processEvents()
    assert view.node_item("stage2").problems  # outside: on the block
    assert any(p.node == "stage2" for p in view.problems())


def test_block_name_is_editable_in_one_undo_step(window):
    view = window.canvas
    root = window.project.model
    testkit.edit_param(window, "stage1", "name", "Stem")
    assert root.params("stage1")["name"] == "Stem"
    assert view.node_item("stage1")._title == "Stem"
    assert window.undo_stack.undoText() == "Set name"
    view.open_block("stage1")
    assert window.breadcrumb.labels == ["Network", "Stem"]
    view.go_up()
    testkit.edit_param(window, "stage1", "name", "   ")  # refused, with a message
    assert root.params("stage1")["name"] == "Stem"
    assert not window.inspector.errors["name"].isHidden()
    window.actions_.undo.trigger()
    assert root.params("stage1")["name"] == "Stage1"


def test_screenshot_outside_with_blocks(window):
    window.canvas.fit()
    QApplication.processEvents()
    rect = window.canvas.mapToScene(window.canvas.viewport().rect()).boundingRect()
    for nid in window.project.model.nodes():  # Fit shows every card
        assert rect.contains(window.canvas.node_scene_rect(nid))
    ART.mkdir(exist_ok=True)
    window.grab().save(str(ART / "blocks_outside.png"))


def test_network_ends_are_refused_inside_a_block(window):
    view = window.canvas
    view.open_block("stage2")
    n = window.undo_stack.count()
    messages = []
    view.status_message.connect(messages.append)
    assert view.add_layer("Input") is None
    assert window.undo_stack.count() == n and "not inside" in messages[-1]
    assert view.add_layer("ReLU") is not None  # a layer is welcome
    while (nid := view.add_layer("Block")) is not None:  # nesting, to the limit
        view.open_block(nid)
    assert "at most" in messages[-1] and view.depth() == 7  # the model allows 8 levels of bodies


def test_an_edit_elsewhere_does_not_move_the_canvas(window):
    """Only undo and redo follow a change to its level: a dataset fit, say, editing the
    top level while a block is shown leaves the user where they are."""
    from studio.ui.editor.canvas.commands import SetParam
    view = window.canvas
    root = window.project.model
    view.open_block("stage2")
    view.push(SetParam(root, "linear2", "out_features", 7))
    assert view.model() is root.body("stage2")
    window.actions_.undo.trigger()
    assert view.model() is root  # the undo shows where it happened
    assert root.params("linear2")["out_features"] == 10


def test_breadcrumb_names_blocks_by_name_unless_shared():
    from studio.graph.model import GraphModel
    from studio.ui.editor.canvas.navigation import crumb_label
    m = GraphModel()
    for nid, name in (("a", "Encoder"), ("b", "BasicBlock"), ("c", "BasicBlock"), ("d", "Block")):
        m.add_node("Block", {"name": name}, nid=nid)
    assert [crumb_label(m, n) for n in "abcd"] == ["Encoder", "b", "c", "d"]


def test_palette_block_is_filled_from_inside(qtbot, tmp_path, monkeypatch):
    """An empty Block from the palette, entered, gets a layer dropped on its wire."""
    w = testkit.make_window(qtbot, tmp_path, monkeypatch)
    view = w.canvas
    inp = testkit.drop_layer(w, "Input", QPointF(0, 0))
    blk = testkit.drop_layer(w, "Block", QPointF(testkit.STEP, 0))
    testkit.drag_wire(w, inp, blk)
    assert view.node_item(blk)._contents == "empty" and w.breadcrumb.isVisible()
    double_click(view, card_point(view, blk))
    body = w.project.model.body(blk)
    assert view.model() is body and w.breadcrumb.labels == ["Network", blk]
    (e,) = body.edges()
    mid = view.wire_item(e.id).path().pointAtPercent(0.5)
    relu = testkit.drop_layer(w, "ReLU", view.wire_item(e.id).mapToScene(mid))
    assert body.type_of(relu) == "ReLU" and len(body.edges()) == 2  # split the wire
    key(view, Qt.Key.Key_Escape)  # the dropped layer was selected: this clears it
    assert view.model() is body
    key(view, Qt.Key.Key_Escape)
    assert view.model() is w.project.model and view.node_item(blk)._contents == "1 layer"
    assert wire_label(view, inp) == "3×32×32"


def test_undo_far_away_inside_scrolls_the_change_into_view(window):
    view = window.canvas
    root = window.project.model
    view.open_block("stage2")
    testkit.edit_param(window, "conv2d2", "out_channels", 40)
    view.centerOn(QPointF(5000, 5000))  # the user looks elsewhere, then leaves
    view.go_up()
    window.actions_.undo.trigger()
    assert view.model() is root.body("stage2")
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    assert seen.contains(view.node_scene_rect("conv2d2"))


def test_backspace_through_the_window_shortcuts(window):
    """Backspace is a window shortcut: it deletes a selection, else leaves the block."""
    from PySide6.QtTest import QTest
    view = window.canvas
    root = window.project.model
    view.open_block("stage2")
    view.setFocus()
    view.select_nodes(["relu2"])
    QTest.keyClick(view, Qt.Key.Key_Backspace)
    assert "relu2" not in root.body("stage2").g and view.model() is root.body("stage2")
    QTest.keyClick(view, Qt.Key.Key_Backspace)
    assert view.model() is root
    QTest.keyClick(view, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)  # already at the top: nothing
    assert view.model() is root and "stage2" in root.g
