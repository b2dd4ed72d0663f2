"""Wire labels after an upstream edit: visible ones at once, off-screen ones in
later batches, and nothing stale for a reader or once the batches have run."""
from PySide6.QtCore import QPointF

from studio.graph.model import GraphModel


def _chain(view, n: int):
    """Input -> n Linear layers in a long row; the view shows only the start."""
    m: GraphModel = view.model()
    prev = m.add_node("Input", {"kind": "vector", "features": 8}, (0, 0))
    ids = []
    for i in range(n):
        nid = m.add_node("Linear", {"out_features": 8}, (300 * (i + 1), 0))
        m.connect(prev, "out", nid, "in")
        ids.append(nid)
        prev = nid
    return m, ids


def _label(view, m, src):
    return view.wire_item(m.out_edges(src)[0].id).label


def test_an_upstream_edit_relabels_visible_wires_now_and_the_rest_in_batches(canvas, qtbot):
    view, _ = canvas
    m, ids = _chain(view, 40)
    view.centerOn(QPointF(400, 0))
    scene = view.scene()
    first = m.in_edges(ids[0])[0].src
    near, far = _label(view, m, first), _label(view, m, ids[-2])
    m.set_param(first, "features", 5)  # only the Input's wire changes shape: it is visible
    assert near._text == "5" and scene.labels_pending() == 0
    # Make every Linear 16 wide: 40 wires change, most of them far off-screen.
    for nid in ids:
        m.set_param(nid, "out_features", 16)
    first_out = _label(view, m, ids[0])
    assert first_out._text == "16"                 # on screen: relabelled at once
    assert scene.labels_pending() > 0 and far._text == "8"  # off screen: waits for a batch
    assert far.text == "16"                        # ...but a reader never sees a stale label
    qtbot.waitUntil(lambda: scene.labels_pending() == 0)
    assert all(_label(view, m, nid)._text == "16" for nid in ids[:-1])
    assert "16" in _label(view, m, ids[-3]).toolTip()


def test_zoomed_out_past_label_drawing_labels_wait_for_a_zoom_in(canvas, qtbot):
    view, _ = canvas
    m, ids = _chain(view, 6)
    view.scale(0.3, 0.3)
    scene = view.scene()
    m.set_param(ids[0], "out_features", 4)
    label = _label(view, m, ids[0])
    qtbot.wait(50)  # event-loop turns: nothing is relabelled while labels are not drawn
    assert scene.labels_pending() == 1 and label._text == "8" and not scene.relabelling()
    view.resetTransform()
    view.viewport().update()
    qtbot.waitUntil(lambda: scene.labels_pending() == 0)
    assert label._text == "4"


def test_a_hidden_view_relabels_everything_at_once(qtbot):
    from PySide6.QtGui import QUndoStack
    from studio.ui.editor.canvas import CanvasView
    view = CanvasView()
    qtbot.addWidget(view)
    view.set_model(GraphModel(), QUndoStack())
    m, ids = _chain(view, 30)
    m.set_param(ids[0], "out_features", 3)
    assert view.scene().labels_pending() == 0 and _label(view, m, ids[0])._text == "3"
