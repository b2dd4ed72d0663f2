"""My blocks in the real main window: save a block from the canvas menu, see it in the
palette, drag it into another project (same inside, one undo step), rename and delete
it, and a corrupt library file listed as skipped without breaking the palette."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from studio.graph.blocks import group
from studio.graph.builder import sequential
from studio.project import file
from studio.project.block_library import SUFFIX
from studio.project.model import Project
from studio.ui.editor import user_blocks
from studio.ui.editor.canvas.menus import build_context_menu
from tests.ui import testkit

ART = Path("tests/_artifacts")
CONV = ("Conv2d", {"out_channels": 8, "padding": 1})


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_BLOCKS_DIR", str(tmp_path / "library"))
    w = testkit.make_window(qtbot, tmp_path, monkeypatch)
    w.said = []
    w.canvas.status_message.connect(w.said.append)
    return w


def open_with_block(window, tmp_path) -> tuple[str, dict]:
    m, ids = sequential([CONV, "ReLU", CONV, "Flatten", ("Linear", {"out_features": 4})],
                        input_params={"channels": 8, "height": 8, "width": 8})
    rec = group(m, ids[1:4], "Res")
    path = file.save(Project(model=m), tmp_path / "with_block.studio.json")
    assert window.open_path(path, confirm=False)
    return rec.block, window.project.model.body(rec.block).snapshot()


def node_menu(window, nid):
    c = window.canvas
    at = c.node_scene_rect(nid).center()
    c.centerOn(at)
    return build_context_menu(c, c.mapFromScene(at))


def action(menu, text):
    return next(a for a in menu.actions() if a.text() == text)


def drop_mime(window, mime, scene_pos: QPointF) -> None:
    """Drag events with the palette's own drag data, as testkit.drop_layer sends them."""
    c = window.canvas
    c.centerOn(scene_pos)
    at = QPointF(c.mapFromScene(scene_pos))
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(at.toPoint(), *args)
    QApplication.sendEvent(c.viewport(), enter)
    assert enter.isAccepted(), "canvas refused the saved block"
    QApplication.sendEvent(c.viewport(), QDragMoveEvent(at.toPoint(), *args))
    QApplication.sendEvent(c.viewport(), QDropEvent(at, *args))
    QApplication.processEvents()


def test_save_to_library_then_drag_into_another_project(window, tmp_path, monkeypatch):
    blk, inside = open_with_block(window, tmp_path)
    weights = window.project.model.shapes.info[blk].weights
    testkit.select(window, blk)
    assert window.actions_.ungroup.isEnabled() and window.actions_.make_block.isEnabled()
    monkeypatch.setattr(window.canvas, "ask_block_name", lambda cur: f"{cur} stem")
    menu = node_menu(window, blk)
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[:5] == ["Open block", "Make block", "Ungroup block", "Repeat…", "Save block to library…"]
    ART.mkdir(parents=True, exist_ok=True)
    menu.popup(window.canvas.mapToGlobal(QPoint(300, 200)))
    menu.grab().save(str(ART / "block_context_menu.png"))
    menu.close()
    action(menu, "Save block to library…").trigger()
    saved = list((tmp_path / "library").glob(f"*{SUFFIX}"))
    assert len(saved) == 1 and window.said[-1].startswith("Saved Res stem to My blocks")
    pal = window.palette
    assert pal.my_blocks.names() == ["Res stem"]
    item = pal.my_blocks.item_for("Res stem")
    assert item.text(0) == "Res stem  ·  3 layers"
    assert pal.tree.currentItem() is item  # shown where the user will look for it
    pal.grab().save(str(ART / "palette_my_blocks.png"))

    assert window.new_project()
    m = window.project.model
    inp = testkit.drop_layer(window, "Input", QPointF(0, 0))
    testkit.edit_param(window, inp, "channels", 8)
    testkit.edit_param(window, inp, "height", 8)
    testkit.edit_param(window, inp, "width", 8)
    steps = window.undo_stack.count()
    drop_mime(window, pal.tree.mimeData([item]), QPointF(300, 0))
    assert window.undo_stack.count() == steps + 1
    (new,) = m.of_type("Block")
    assert m.params(new)["name"] == "Res stem"
    assert m.body(new).snapshot() == inside and window.canvas.selected_nodes() == [new]
    testkit.drag_wire(window, inp, new)
    assert m.shapes.info[new].weights == weights > 0
    window.undo_stack.undo()  # the wire
    window.undo_stack.undo()  # the block: one step
    assert not m.of_type("Block")
    pal.tree.itemDoubleClicked.emit(item, 0)  # double-click adds one too
    assert len(m.of_type("Block")) == 1


def test_make_block_from_the_edit_menu_and_a_refusal_in_the_status_bar(window, tmp_path):
    blk, _ = open_with_block(window, tmp_path)
    m = window.project.model
    c = window.canvas
    lin = m.of_type("Linear")[0]
    c.select_nodes([m.of_type("Flatten")[0], lin])
    steps = window.undo_stack.count()
    window.actions_.make_block.trigger()
    assert window.undo_stack.count() == steps + 1 and len(m.of_type("Block")) == 2
    window.undo_stack.undo()
    c.select_nodes(m.of_type("Input"))
    window.actions_.make_block.trigger()
    assert window.undo_stack.count() == steps
    assert "stay outside a block" in window.statusBar().currentMessage()
    c.select_nodes([lin])
    assert not window.actions_.ungroup.isEnabled()
    window.set_editing_locked(True)
    c.select_nodes([blk])
    assert not window.actions_.ungroup.isEnabled() and not window.actions_.make_block.isEnabled()
    window.set_editing_locked(False)
    assert window.actions_.ungroup.isEnabled()


def test_rename_delete_and_a_corrupt_file_in_the_library(window, tmp_path, monkeypatch):
    blk, _ = open_with_block(window, tmp_path)
    window.canvas.save_block_to_library(blk, name="Res")
    lib = tmp_path / "library"
    (lib / f"broken{SUFFIX}").write_text('{"format": "studio.block", "version": 1, "body": {"nodes": 5}}')
    (lib / f"half{SUFFIX}").write_bytes(b'{"format": "studio.bl')
    user_blocks.notifier().changed.emit()  # as after any save
    pal = window.palette.my_blocks
    assert pal.names() == ["Res"]
    assert len(pal.skipped) == 2
    skipped = next(pal.head.child(i) for i in range(pal.head.childCount())
                   if pal.head.child(i).text(0) == "2 files skipped")
    assert "broken.block.json" in skipped.toolTip(0) and "not valid JSON" in skipped.toolTip(0)
    window.palette.tree.scrollToItem(skipped)
    ART.mkdir(parents=True, exist_ok=True)
    window.palette.grab().save(str(ART / "palette_my_blocks_skipped.png"))
    window.palette.search.setText("res")
    assert not pal.head.isHidden() and not pal.item_for("Res").isHidden() and skipped.isHidden()
    window.palette.search.setText("zzz")
    assert pal.head.isHidden()
    window.palette.search.clear()

    item = pal.item_for("Res")
    menu = pal.show_menu(item, QPoint(10, 10))
    assert [a.text() for a in menu.actions() if a.text()] == ["Add to canvas", "Rename…", "Delete…"]
    monkeypatch.setattr(pal, "ask_new_name", lambda name: "Residual")
    action(menu, "Rename…").trigger()
    assert pal.names() == ["Residual"]
    menu = pal.show_menu(pal.item_for("Residual"), QPoint(10, 10))
    monkeypatch.setattr(pal, "ask_delete", lambda name: False)
    action(menu, "Delete…").trigger()
    assert pal.names() == ["Residual"]
    monkeypatch.setattr(pal, "ask_delete", lambda name: True)
    action(menu, "Delete…").trigger()
    assert pal.names() == [] and len(list(lib.glob(f"*{SUFFIX}"))) == 2  # the bad files are left alone


def test_saving_a_second_block_of_the_same_name_asks(window, tmp_path, monkeypatch):
    blk, _ = open_with_block(window, tmp_path)
    c = window.canvas
    c.save_block_to_library(blk, name="Res")
    monkeypatch.setattr(c, "ask_replace_saved", lambda name: None)  # cancel
    assert c.save_block_to_library(blk, name="Res") is None
    monkeypatch.setattr(c, "ask_replace_saved", lambda name: False)  # keep both
    c.save_block_to_library(blk, name="Res")
    assert window.palette.my_blocks.names() == ["Res", "Res"]
    monkeypatch.setattr(c, "ask_replace_saved", lambda name: True)
    window.project.model.body(blk).set_param(window.project.model.body(blk).of_type("Conv2d")[0],
                                              "out_channels", 4)
    replaced = c.save_block_to_library(blk, name="Res")
    blocks = window.palette.my_blocks.blocks
    assert len(blocks) == 2 and replaced in {b.path for b in blocks}
    widths = sorted(b.body.params(b.body.of_type("Conv2d")[0])["out_channels"] for b in blocks)
    assert widths == [4, 8]  # one replaced, the kept copy untouched


def test_a_saved_block_dropped_on_a_wire_splits_it_in_one_step(window, tmp_path):
    blk, inside = open_with_block(window, tmp_path)
    window.canvas.save_block_to_library(blk, name="Res")
    assert window.new_project()
    m = window.project.model
    inp = testkit.drop_layer(window, "Input", QPointF(0, 0))
    out = testkit.drop_layer(window, "Output", QPointF(700, 0))
    testkit.drag_wire(window, inp, out)
    (wire,) = m.edges()
    before, steps = m.snapshot(), window.undo_stack.count()
    item = window.canvas.wire_item(wire.id)
    mid = item.mapToScene(item.path().pointAtPercent(0.5))
    drop_mime(window, window.palette.tree.mimeData([window.palette.my_blocks.item_for("Res")]), mid)
    (new,) = m.of_type("Block")
    assert window.undo_stack.count() == steps + 1 and not m.has_edge(wire.id)
    assert [e.src for e in m.in_edges(new)] == [inp] and [e.dst for e in m.out_edges(new)] == [out]
    assert m.body(new).snapshot() == inside
    window.undo_stack.undo()
    assert m.snapshot() == before


def test_blocks_saved_by_another_studio_appear_without_a_restart(window, tmp_path, qtbot):
    from studio.project.block_library import BlockLibrary
    blk, _ = open_with_block(window, tmp_path)
    window.canvas.save_block_to_library(blk, name="Res")
    pal = window.palette.my_blocks
    pal.tree.setCurrentItem(pal.item_for("Res"))
    m = window.project.model
    other = BlockLibrary(tmp_path / "library")  # another process: no signal reaches this window
    other.save({**m.params(blk), "name": "Elsewhere"}, m.body(blk))
    qtbot.waitUntil(lambda: "Elsewhere" in pal.names(), timeout=5000)
    assert pal.tree.currentItem() is pal.item_for("Res")  # the selection stays
    for f in (tmp_path / "library").glob("*Elsewhere*"):
        f.unlink()
    qtbot.waitUntil(lambda: "Elsewhere" not in pal.names(), timeout=5000)
