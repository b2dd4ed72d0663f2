"""Connecting by dragging between ports, re-routing, breaking wires, quick-add
from a dropped wire, inserting a card on a wire."""
from PySide6.QtCore import QPointF, Qt



def test_drag_port_to_port_connects_and_labels_the_wire(canvas):
    view, d = canvas
    a = view.add_layer("Input", QPointF(100, 100))
    b = view.add_layer("Conv2d", QPointF(400, 100))
    d.connect(a, b)
    (e,) = view.model().edges()
    assert (e.src, e.dst) == (a, b)
    wire = view.wire_item(e.id)
    assert wire.label.text == "3×32×32"
    assert "3×32×32" in wire.label.toolTip()
    assert view.node_item(a).port("out", "out").connected
    view.undo_stack().undo()
    assert view.model().edges() == [] and view.wire_item(e.id) is None


def test_drag_highlights_only_compatible_ports(canvas):
    view, d = canvas
    a = view.add_layer("Input", QPointF(100, 100))
    b = view.add_layer("ReLU", QPointF(400, 100))
    c = view.add_layer("ReLU", QPointF(700, 100))
    d.connect(a, b)
    d.connect(b, c)
    d.press(d.out_port(c))
    d.move(QPointF(900, 300))
    hl = {(p.node_id, p.direction) for i in (a, b, c) for p in view.node_item(i).ports.values() if p.highlight}
    assert hl == set()  # b and c's inputs are full; a has no input; no loops
    d.release(QPointF(900, 300))
    popup = view.quick_add_popup()
    assert popup is not None
    popup.close()
    assert len(view.model().edges()) == 2


def test_dragging_a_full_input_reroutes_its_wire(canvas):
    view, d = canvas
    a = view.add_layer("Input", QPointF(100, 100))
    b = view.add_layer("ReLU", QPointF(400, 100))
    c = view.add_layer("ReLU", QPointF(400, 300))
    d.connect(a, b)
    d.drag(d.in_port(b), d.in_port(c))
    (e,) = view.model().edges()
    assert (e.src, e.dst) == (a, c)
    view.undo_stack().undo()
    (e,) = view.model().edges()
    assert (e.src, e.dst) == (a, b)
    d.drag(d.in_port(b), QPointF(600, 500))  # dropped on empty canvas: removed
    assert view.model().edges() == []


def test_release_on_empty_canvas_opens_quick_add_and_connects(canvas, qtbot):
    view, d = canvas
    a = view.add_layer("Input", QPointF(100, 100))
    d.drag(d.out_port(a), QPointF(450, 120))
    qtbot.waitUntil(lambda: view.quick_add_popup() is not None)
    popup = view.quick_add_popup()
    qtbot.keyClicks(popup.search, "relu")
    assert popup.list.currentItem().data(Qt.ItemDataRole.UserRole) == "ReLU"
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(view.model()) == 2)
    (e,) = view.model().edges()
    assert e.src == a and view.model().type_of(e.dst) == "ReLU"
    assert view.selected_nodes() == [e.dst]
    view.undo_stack().undo()  # node and wire were one step
    assert len(view.model()) == 1 and view.model().edges() == []


def test_alt_click_port_breaks_its_wires(canvas):
    view, d = canvas
    a = view.add_layer("Input", QPointF(100, 100))
    b = view.add_layer("ReLU", QPointF(400, 0))
    c = view.add_layer("ReLU", QPointF(400, 200))
    d.connect(a, b)
    d.connect(a, c)
    assert len(view.model().edges()) == 2
    d.click(d.out_port(a), mods=Qt.KeyboardModifier.AltModifier)
    assert view.model().edges() == []
    view.undo_stack().undo()
    assert len(view.model().edges()) == 2


def test_drop_card_on_wire_inserts_it(canvas):
    view, d = canvas
    a = view.add_layer("Input", QPointF(100, 100))
    b = view.add_layer("Output", QPointF(700, 100))
    d.connect(a, b)
    r = view.add_layer("ReLU", QPointF(400, 400))
    before = view.model().snapshot()
    wire = view.wire_item(view.model().edges()[0].id)
    mid = wire.path().pointAtPercent(0.5)
    grab = d.body(r)
    centre = view.node_scene_rect(r).center()
    d.drag(grab, mid + (grab - centre))
    m = view.model()
    assert {(e.src, e.dst) for e in m.edges()} == {(a, r), (r, b)}
    assert m.pos(r)[0] % 20 == 0 and m.pos(r)[1] % 20 == 0
    view.undo_stack().undo()  # move and insert are one step
    assert m.snapshot() == before


def test_locked_canvas_refuses_edits_but_allows_moves(canvas):
    view, d = canvas
    a = view.add_layer("Input", QPointF(100, 100))
    b = view.add_layer("ReLU", QPointF(400, 100))
    messages = []
    view.status_message.connect(messages.append)
    view.set_locked(True)
    assert view.add_layer("ReLU") is None
    d.connect(a, b)
    assert view.model().edges() == []
    view.select_nodes([a])
    view.delete_selected()
    assert len(view.model()) == 2 and messages
    d.drag(d.body(a), d.body(a) + QPointF(0, 100))
    assert view.model().pos(a)[1] > 0
    view.set_locked(False)
    d.connect(a, b)
    assert len(view.model().edges()) == 1


def test_merge_port_takes_several_wires_but_not_the_same_one_twice(canvas):
    view, d = canvas
    a = view.add_layer("Input", QPointF(0, 0))
    b = view.add_layer("ReLU", QPointF(260, 120))
    add = view.add_layer("Add", QPointF(560, 0))
    d.connect(a, b)
    d.connect(a, add)
    d.connect(b, add)
    assert len(view.model().in_edges(add)) == 2
    d.press(d.out_port(a))
    d.move(QPointF(400, 300))
    assert not view.node_item(add).port("in", "in").highlight  # a already feeds add
    d.release(d.in_port(add))
    assert len(view.model().in_edges(add)) == 2
    assert view.wire_item(view.model().in_edges(add)[0].id).label.text == "3×32×32"
