"""Ctrl+L in the real window: a residual block's skip wire ends up in plain sight (its path
crosses no card it does not connect to), in one undo step; the ResNet sample laid out."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui import testkit

ROOT = Path(__file__).resolve().parents[4]
ART = ROOT / "tests" / "_artifacts"


def hidden(canvas, model) -> list[tuple[str, str, str]]:
    """(wire source, wire target, card) for every wire whose drawn path crosses a card it
    does not connect to (wires that wrap back into the next band included)."""
    bad = []
    for e in model.edges():
        wire = canvas.wire_item(e.id)
        path = wire.mapToScene(wire.shape())
        bad += [(e.src, e.dst, n) for n in model.nodes()
                if n not in (e.src, e.dst) and path.intersects(canvas.node_scene_rect(n))]
    return bad


def press_ctrl_l(window, qtbot) -> None:
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()


def test_ctrl_l_lays_a_residual_block_out_with_its_skip_wire_in_sight(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch)
    layers = [("Input", {}), ("Conv2d", {"out_channels": 3, "padding": 1}), ("ReLU", {}),
              ("Conv2d", {"out_channels": 3, "padding": 1}), ("Add", {}), ("Output", {})]
    ids = testkit.build_chain(w, layers)
    w.canvas.scale(0.6 / w.canvas.zoom(), 0.6 / w.canvas.zoom())  # both ends of the skip in view
    testkit.drag_wire(w, ids[0], ids[4])  # Input -> Add: the skip, drawn behind the branch's cards
    m = w.project.model
    skip = next(e for e in m.edges() if (e.src, e.dst) == (ids[0], ids[4]))
    assert {c for _, _, c in hidden(w.canvas, m)} >= set(ids[1:4])
    before = {n: m.pos(n) for n in m.nodes()}
    count = w.undo_stack.count()

    press_ctrl_l(w, qtbot)
    assert w.undo_stack.count() == count + 1  # one step
    assert not hidden(w.canvas, m)
    path = w.canvas.wire_item(skip.id).mapToScene(w.canvas.wire_item(skip.id).shape())
    assert not any(path.intersects(w.canvas.node_scene_rect(n)) for n in ids[1:4])
    xs = [m.pos(n)[0] for n in ids]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # left to right, a column each
    assert m.pos(ids[0])[1] == m.pos(ids[4])[1] == m.pos(ids[5])[1]  # the skip runs straight
    ART.mkdir(exist_ok=True)
    w.grab().save(str(ART / "auto_layout_residual.png"))

    w.undo_stack.undo()
    QApplication.processEvents()
    assert {n: m.pos(n) for n in m.nodes()} == before
    press_ctrl_l(w, qtbot)
    after = {n: m.pos(n) for n in m.nodes()}
    press_ctrl_l(w, qtbot)  # laid out already: nothing moves, no empty undo step
    assert {n: m.pos(n) for n in m.nodes()} == after and w.undo_stack.count() == count + 1


def test_ctrl_l_on_the_resnet_sample_shows_every_skip(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch)
    assert w.open_path(ROOT / "samples" / "cifar10_resnet.studio.json", confirm=False)
    QApplication.processEvents()
    m = w.project.model
    assert not hidden(w.canvas, m)  # as shipped (samples/make_samples.py uses the same layout)
    for i, n in enumerate(m.nodes()):  # as it was shipped before: rows of 5, in order
        m.move(n, ((i % 5) * 250.0, (i // 5) * 170.0))
    QApplication.processEvents()
    assert {card for _, add, card in hidden(w.canvas, m) if m.type_of(add) == "Add"}
    press_ctrl_l(w, qtbot)
    assert not hidden(w.canvas, m)
    adds = m.of_type("Add")
    assert len(adds) == 2
    for add in adds:  # each skip straight on its row, in one band (the x order holds)
        src = next(e.src for e in m.in_edges(add) if m.pos(e.src)[1] == m.pos(add)[1])
        assert m.pos(src)[0] < m.pos(add)[0] - 260
    qtbot.keyClick(w.canvas, Qt.Key.Key_F)
    QApplication.processEvents()
    view = w.canvas.mapToScene(w.canvas.viewport().rect()).boundingRect()
    assert all(view.contains(w.canvas.node_scene_rect(n)) for n in m.nodes())
    assert w.canvas.zoom() >= 0.33, w.canvas.zoom()  # 8 columns wide: a residual block is never cut
    ART.mkdir(exist_ok=True)
    w.grab().save(str(ART / "auto_layout_resnet_sample.png"))
    w.canvas.resetTransform()
    w.canvas.centerOn(w.canvas.node_scene_rect(adds[0]).center())
    QApplication.processEvents()
    w.grab().save(str(ART / "auto_layout_resnet_sample_add.png"))
