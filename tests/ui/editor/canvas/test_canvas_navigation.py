"""Zoom, pan, fit, Escape, Tab/double-click quick-add, context menus, themes."""
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from studio.ui.editor.canvas.menus import build_context_menu
from studio.ui.editor.canvas.quick_add import matching_layers


def _wheel(view, dy: int) -> None:
    pos = QPointF(view.viewport().rect().center())
    ev = QWheelEvent(pos, QPointF(view.viewport().mapToGlobal(pos.toPoint())), QPoint(0, 0),
                     QPoint(0, dy), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), ev)


def test_wheel_zoom_is_clamped(canvas):
    view, _ = canvas
    for _ in range(40):
        _wheel(view, 120)
    assert abs(view.zoom() - 3.0) < 1e-6
    for _ in range(80):
        _wheel(view, -120)
    assert abs(view.zoom() - 0.2) < 1e-6


def test_middle_drag_pans_without_editing(canvas):
    view, d = canvas
    view.add_layer("ReLU", QPointF(0, 0))
    n = view.undo_stack().count()
    before = view.mapToScene(view.viewport().rect().center())
    mid = Qt.MouseButton.MiddleButton
    a = view.mapToScene(QPoint(600, 350))
    b = view.mapToScene(QPoint(500, 300))
    d.press(a, button=mid)
    d.move(b, buttons=mid)
    d.release(b, button=mid)
    after = view.mapToScene(view.viewport().rect().center())
    assert (after - before).manhattanLength() > 100
    assert view.undo_stack().count() == n


def test_escape_cancels_a_wire_drag(canvas, qtbot):
    view, d = canvas
    a = view.add_layer("Input", QPointF(0, 0))
    b = view.add_layer("ReLU", QPointF(300, 0))
    d.press(d.out_port(a))
    d.move(QPointF(200, 50))
    assert view.node_item(b).port("in", "in").highlight
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Escape)
    assert not view.node_item(b).port("in", "in").highlight
    d.release(d.in_port(b))
    assert view.model().edges() == []


def test_tab_and_double_click_open_quick_add(canvas, qtbot):
    view, d = canvas
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    popup = view.quick_add_popup()
    assert popup is not None
    popup.close()
    d._send(QEvent.Type.MouseButtonDblClick, QPointF(500, 500), Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: view.quick_add_popup() is not None)
    popup = view.quick_add_popup()
    qtbot.keyClicks(popup.search, "conv")
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    (nid,) = view.model().nodes()
    assert view.model().type_of(nid) == "Conv2d"
    assert view.node_scene_rect(nid).contains(QPointF(500, 500))


def test_quick_add_filter_ranks_prefix_matches_first():
    found = matching_layers("relu")
    assert found[:3] == ["ReLU", "ReLU6", "LeakyReLU"]  # prefix matches, then the rest
    assert "Opaque" not in matching_layers("")  # made by imports only
    assert "Input" in matching_layers("") and "Input" not in matching_layers("", inside=True)  # in a block
    assert "Input" not in matching_layers("", need="in")
    assert "Output" not in matching_layers("", need="out")


def test_context_menus_offer_fix_and_canvas_actions(canvas):
    view, d = canvas
    ids = [view.add_layer(t, QPointF(260 * i, 0)) for i, t in enumerate(["Input", "Conv2d", "Linear"])]
    d.connect(ids[0], ids[1])
    d.connect(ids[1], ids[2])
    menu = build_context_menu(view, view.mapFromScene(d.body(ids[2])))
    fix = [a for a in menu.actions() if a.text().startswith("Fix:")]
    assert [a.text() for a in fix] == ["Fix: Insert Flatten"]
    fix[0].trigger()
    assert "Flatten" in {view.model().type_of(n) for n in view.model().nodes()}
    empty = build_context_menu(view, view.mapFromScene(QPointF(300, 600)))
    assert {"Add layer…", "Paste", "Auto-layout", "Fit to view"} <= {a.text() for a in empty.actions()}
    wire = view.wire_item(view.model().edges()[0].id)
    on_wire = build_context_menu(view, view.mapFromScene(wire.path().pointAtPercent(0.3)))
    assert {"Insert layer…", "Delete wire"} <= {a.text() for a in on_wire.actions()}


def test_auto_layout_is_one_step_left_to_right(canvas):
    view, d = canvas
    ids = [view.add_layer(t, QPointF(0, 300 * i)) for i, t in enumerate(["Output", "ReLU", "Input"])]
    d.connect(ids[2], ids[1])
    d.connect(ids[1], ids[0])
    n = view.undo_stack().count()
    view.auto_layout()
    m = view.model()
    assert view.undo_stack().count() == n + 1
    assert m.pos(ids[2])[0] < m.pos(ids[1])[0] < m.pos(ids[0])[0]
    assert len({m.pos(i)[1] for i in ids}) == 1


def test_theme_switch_and_lock_banner(canvas):
    view, _ = canvas
    view.add_layer("Conv2d")
    view.set_dark(True)
    assert view.scene().theme.dark
    view.set_locked(True)
    assert view._banner.isVisible()
    view.set_locked(False)
    assert not view._banner.isVisible()
