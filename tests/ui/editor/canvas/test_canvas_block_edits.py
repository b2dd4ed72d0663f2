"""Block edits on the canvas: Make block and Ungroup (one undo step each, exact undo,
refusals said in the status bar), Repeat…, and copy/paste of blocks with their inside."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.graph.builder import sequential
from studio.graph.model import GraphError, GraphModel
from studio.ui.editor.canvas import clipboard
from studio.ui.editor.canvas.commands import paste
from studio.ui.editor.canvas.menus import build_context_menu

CTRL = Qt.KeyboardModifier.ControlModifier
CONV = ("Conv2d", {"out_channels": 8, "padding": 1})
WIDEN = ("Conv2d", {"out_channels": 16, "padding": 1})


def load(view, layers, **inp):
    m, ids = sequential(layers, input_params=inp or {"channels": 8, "height": 8, "width": 8})
    view.set_model(m, view.undo_stack())
    return m, ids


def click(view, d, nid, mods=Qt.KeyboardModifier.NoModifier):
    view.centerOn(view.node_scene_rect(nid).center())
    d.click(d.body(nid), mods=mods)


def menu_action(view, nid, text):
    """Right-click `nid` (as the canvas does) and find the action called `text`."""
    view.centerOn(view.node_scene_rect(nid).center())
    menu = build_context_menu(view, view.mapFromScene(view.node_scene_rect(nid).center()))
    return next(a for a in menu.actions() if a.text() == text), menu


def messages(view) -> list[str]:
    out: list[str] = []
    view.status_message.connect(out.append)
    return out


def test_make_block_from_the_menu_is_one_step_and_undo_is_exact(canvas):
    view, d = canvas
    m, ids = load(view, [CONV, "ReLU", CONV, "Flatten"])
    stack = view.undo_stack()
    before = m.snapshot()
    weights = m.shapes.totals()[0]
    click(view, d, ids[1])
    click(view, d, ids[2], CTRL)
    click(view, d, ids[3], CTRL)
    assert set(view.selected_nodes()) == set(ids[1:4])
    act, _menu = menu_action(view, ids[2], "Make block")
    assert act.isEnabled()
    act.trigger()
    assert stack.count() == 1
    (blk,) = m.of_type("Block")
    assert view.selected_nodes() == [blk] and m.params(blk)["name"] == "Block"
    assert set(m.body(blk).nodes()) >= set(ids[1:4]) and m.shapes.totals()[0] == weights
    assert view.node_item(blk) is not None and view.node_item(ids[1]) is None
    after = m.snapshot()
    body = m.body(blk)
    stack.undo()
    assert m.snapshot() == before and view.node_item(ids[1]) is not None
    stack.redo()
    assert m.snapshot() == after and m.body(blk) is body  # the same inside object
    stack.undo()
    assert m.snapshot() == before


def test_a_refused_block_says_why_and_adds_no_step(canvas):
    view, d = canvas
    m = GraphModel()
    inp = m.add_node("Input", {"channels": 8, "height": 8, "width": 8}, (0, 0))
    a = m.add_node("Conv2d", {"out_channels": 8, "padding": 1}, (260, -120))
    b = m.add_node("ReLU", {}, (260, 120))
    add = m.add_node("Add", {}, (520, 0))
    out = m.add_node("Output", {}, (780, 0))
    for s, t in ((inp, a), (inp, b), (a, add), (b, add), (add, out)):
        m.connect(s, "out", t, "in")
    view.set_model(m, view.undo_stack())
    said = messages(view)
    before = m.snapshot()
    click(view, d, add)
    assert view.make_block() is None
    assert view.undo_stack().count() == 0 and m.snapshot() == before
    assert said[-1].startswith("Cannot make a block: A block takes one input, but the selection is fed by 2")
    click(view, d, inp)
    view.make_block()
    assert "input and output stay outside" in said[-1] and view.undo_stack().count() == 0


def test_ungroup_and_undo_and_redo_keep_the_same_ids(canvas):
    view, d = canvas
    m, ids = load(view, [CONV, "ReLU", CONV, "Flatten"])
    stack = view.undo_stack()
    wires = {(e.src, e.src_port, e.dst, e.dst_port) for e in m.edges()}
    view.select_nodes(ids[1:4])
    blk = view.make_block()
    grouped = m.snapshot()
    click(view, d, blk)
    act, _menu = menu_action(view, blk, "Ungroup block")
    assert act.isEnabled()
    act.trigger()
    assert stack.count() == 2 and not m.of_type("Block")
    assert set(view.selected_nodes()) == set(ids[1:4])
    assert {(e.src, e.src_port, e.dst, e.dst_port) for e in m.edges()} == wires
    ungrouped = m.snapshot()
    stack.undo()
    assert m.snapshot() == grouped
    stack.redo()  # the wires get their ids back, so later commands naming them still work
    assert m.snapshot() == ungrouped
    stack.undo()
    stack.undo()
    assert {(e.src, e.src_port, e.dst, e.dst_port) for e in m.edges()} == wires


def test_repeat_is_offered_only_for_a_block_that_keeps_its_shape(canvas, monkeypatch):
    view, d = canvas
    m, ids = load(view, [CONV, "ReLU", WIDEN, "Flatten"])
    view.select_nodes(ids[1:3])  # conv 8→8 and relu: same shape out as in
    same = view.make_block()
    view.select_nodes([ids[3]])  # 8 → 16 channels
    wider = view.make_block()
    act, menu = menu_action(view, wider, "Repeat…")
    assert not act.isEnabled() and menu.toolTipsVisible()
    assert "it takes 8×8×8 but gives 16×8×8" in act.toolTip()
    asked = []
    monkeypatch.setattr(view, "ask_repeat_count", lambda name, cur: asked.append((name, cur)) or 3)
    act, _menu = menu_action(view, same, "Repeat…")
    assert act.isEnabled()
    steps = view.undo_stack().count()
    act.trigger()
    assert asked == [("Block", 1)] and m.params(same)["repeat"] == 3
    assert view.undo_stack().count() == steps + 1
    assert m.shapes.info[same].weights == 3 * (8 * 8 * 9 + 8)


def test_copy_paste_and_duplicate_keep_a_blocks_inside(canvas):
    view, d = canvas
    m, ids = load(view, [CONV, "ReLU", CONV, "Flatten"])
    view.select_nodes(ids[1:4])
    blk = view.make_block()
    w = m.shapes.info[blk].weights
    assert w == 2 * (8 * 8 * 9 + 8)
    view.select_nodes([ids[0], blk])
    view.copy()
    view.pointer = None
    view.paste()
    (inp2,) = [n for n in m.of_type("Input") if n != ids[0]]
    (blk2,) = [n for n in m.of_type("Block") if n != blk]
    assert m.body(blk2) is not m.body(blk)
    assert m.body(blk2).snapshot() == m.body(blk).snapshot()
    assert [e.src for e in m.in_edges(blk2)] == [inp2]
    assert m.shapes.info[blk2].weights == w  # its inside is wired and counted
    body2 = m.body(blk2)
    view.undo_stack().undo()
    assert blk2 not in m.nodes()
    view.undo_stack().redo()
    assert m.body(blk2) is body2
    view.select_nodes([blk])
    view.duplicate()
    (blk3,) = [n for n in m.of_type("Block") if n not in (blk, blk2)]
    assert m.body(blk3).snapshot() == m.body(blk).snapshot()


def test_paste_into_a_body_leaves_the_networks_ends_out_and_says_so(canvas):
    view, d = canvas
    m, ids = load(view, [CONV, "ReLU"])
    clip = clipboard.subgraph(m, ids[:3])  # Input, Conv2d, ReLU
    view.select_nodes(ids[2:3])
    blk = view.make_block()
    body = m.body(blk)
    view.set_model(body, view.undo_stack())  # the canvas showing the block's inside
    said = messages(view)
    clipboard.put(clip)
    view.pointer = None
    view.paste()
    types = sorted(body.type_of(n) for n in body.nodes())
    assert types == ["BlockInput", "BlockOutput", "Conv2d", "ReLU", "ReLU"]
    assert said[-1] == "Input cannot go inside a block: pasted the other 2 layers"
    clipboard.put({"nodes": [clip["nodes"][0]], "edges": []})
    view.paste()
    assert said[-1] == "Cannot paste: Input cannot be pasted inside a block"


def test_clipboard_data_from_elsewhere_is_checked_whole(canvas):
    view, d = canvas
    m = view.model()
    said = messages(view)
    for bad, why in [
        ({"nodes": [{"id": "x", "type": "Nope"}], "edges": []}, "unknown layer type"),
        ({"nodes": [{"id": "x", "type": "ReLU", "pos": "here"}], "edges": []}, '"pos" must be two numbers'),
        ({"nodes": [{"id": "b", "type": "Block", "body": {"nodes": [{"id": "i", "type": "Input"}],
                                                          "edges": []}}], "edges": []}, "not inside a block"),
        ({"nodes": [{"id": "r", "type": "ReLU", "body": {"nodes": [], "edges": []}}], "edges": []},
         'only a Block has a "body"'),
    ]:
        clipboard.put(bad)
        view.paste()
        assert said[-1].startswith("Cannot paste: the clipboard") and why in said[-1], said[-1]
        assert len(m) == 0 and view.undo_stack().count() == 0
    # the command level refuses the same way (another caller, same checks)
    with pytest.raises(GraphError, match="unknown layer type"):
        paste(m, {"nodes": [{"id": "x", "type": "Nope"}], "edges": []}, (0, 0))


def test_ctrl_g_makes_a_block_and_ctrl_shift_g_ungroups_it(canvas, qtbot):
    view, d = canvas
    m, ids = load(view, [CONV, "ReLU"])
    view.select_nodes(ids[1:3])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_G, CTRL)
    (blk,) = m.of_type("Block")
    assert view.selected_nodes() == [blk]
    qtbot.keyClick(view, Qt.Key.Key_G, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert not m.of_type("Block") and set(view.selected_nodes()) == set(ids[1:3])
    assert view.undo_stack().count() == 2


def test_make_block_in_the_menu_is_disabled_with_the_reason(canvas):
    view, d = canvas
    m, ids = load(view, [CONV, "ReLU"])
    view.select_nodes([ids[0]])  # the network's Input
    act, menu = menu_action(view, ids[0], "Make block")
    assert not act.isEnabled() and "stay outside a block" in act.toolTip()
    view.select_nodes(ids[1:3])
    act, menu = menu_action(view, ids[1], "Make block")
    assert act.isEnabled()


def test_a_block_inside_a_block_survives_copy_and_paste(canvas):
    view, d = canvas
    m, ids = load(view, [CONV, "ReLU", CONV])
    view.select_nodes(ids[1:3])
    inner = view.make_block()
    view.select_nodes([inner, ids[3]])
    outer = view.make_block()
    assert m.body(outer).of_type("Block") == [inner]
    view.select_nodes([outer])
    view.copy()
    view.pointer = None
    view.paste()
    (pasted,) = [n for n in m.of_type("Block") if n != outer]
    assert m.body(pasted).snapshot() == m.body(outer).snapshot()
    nested = m.body(pasted).body(inner)
    assert nested is not m.body(outer).body(inner) and nested.parent == (m.body(pasted), inner)
