"""Screenshots for a human to look at, theme switching, drag-and-drop from the
palette, and the 500-node load budget."""
import time
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import QApplication

from studio.graph.model import GraphModel
from studio.ui.editor.canvas import LAYER_MIME, CanvasView

ART = Path(__file__).resolve().parents[3] / "_artifacts"


def cnn_with_error() -> GraphModel:
    """A small CIFAR-style CNN with a residual Add, and one mistake: Linear right
    after a convolution block (no Flatten)."""
    m = GraphModel()
    n = {}
    for key, t, p, pos in (
            ("in", "Input", {}, (0, 0)),
            ("c1", "Conv2d", {"out_channels": 32, "padding": 1}, (260, 0)),
            ("r1", "ReLU", {}, (520, 0)),
            ("p1", "MaxPool2d", {}, (780, 0)),
            ("c2", "Conv2d", {"out_channels": 32, "padding": 1}, (1040, -100)),
            ("bn", "BatchNorm2d", {}, (1300, -100)),
            ("add", "Add", {}, (1560, 0)),
            ("lin", "Linear", {"out_features": 10}, (1820, 0)),
            ("out", "Output", {}, (2080, 0))):
        n[key] = m.add_node(t, p, pos)
    for a, b in (("in", "c1"), ("c1", "r1"), ("r1", "p1"), ("p1", "c2"), ("c2", "bn"),
                 ("bn", "add"), ("p1", "add"), ("add", "lin"), ("lin", "out")):
        m.connect(n[a], "out", n[b], "in")
    return m


def _shot(qtbot, dark: bool, name: str) -> Path:
    view = CanvasView()
    qtbot.addWidget(view)
    view.set_model(cnn_with_error(), QUndoStack())
    view.set_dark(dark)
    view.resize(1800, 520)
    view.show()
    qtbot.waitExposed(view)
    view.fit()
    view.select_nodes(["conv2d2"])
    QApplication.processEvents()
    ART.mkdir(exist_ok=True)
    path = ART / name
    assert view.grab().save(str(path))
    assert view.node_item("linear1").badge.isVisible()
    return path


def test_screenshots_light_and_dark(qtbot):
    for dark, name in ((False, "canvas_light.png"), (True, "canvas_dark.png")):
        assert _shot(qtbot, dark, name).stat().st_size > 10_000


def test_palette_drop_adds_layer_at_drop_point(canvas):
    view, _ = canvas
    data = QMimeData()
    data.setData(LAYER_MIME, b"Conv2d")
    target = QPointF(300, 200)
    local = QPointF(view.mapFromScene(target))
    for kind in (QDropEvent.Type.DragEnter, QDropEvent.Type.Drop):
        cls = QDragEnterEvent if kind == QDropEvent.Type.DragEnter else QDropEvent
        ev = cls(local.toPoint() if cls is QDragEnterEvent else local, Qt.DropAction.CopyAction,
                 data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view.viewport(), ev)
    (nid,) = view.model().nodes()
    assert view.model().type_of(nid) == "Conv2d"
    assert view.node_scene_rect(nid).contains(target)
    x, y = view.model().pos(nid)
    assert x % 20 == 0 and y % 20 == 0


def _big_model(n: int) -> GraphModel:
    m = GraphModel()
    prev = m.add_node("Input", {"kind": "vector", "features": 16}, (0, 0))
    for i in range(1, n - 1):
        t = "Linear" if i % 2 else "ReLU"
        nid = m.add_node(t, {}, ((i % 25) * 260, (i // 25) * 100))
        m.connect(prev, "out", nid, "in")
        prev = nid
    out = m.add_node("Output", {"loss": "mse", "task": "regression"}, (0, 3000))
    m.connect(prev, "out", out, "in")
    return m


def test_500_nodes_load_and_render_under_a_second(qtbot):
    m = _big_model(500)
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    qtbot.waitExposed(view)
    t0, c0 = time.perf_counter(), time.process_time()
    view.set_model(m, QUndoStack())
    view.fit()
    view.grab()  # a full paint of every visible card and wire
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"\n500 nodes: set_model + fit + paint: cpu {cpu * 1000:.0f} ms, wall {wall * 1000:.0f} ms")
    assert len(view.scene().nodes) == 500 and len(view.scene().wires) == 499
    # Times are printed for the record only: bench/canvas_scale.py is where speed is measured.
    t0 = time.perf_counter()
    view.select_nodes([m.nodes()[10]])
    view.duplicate()
    print(f"500 nodes: one edit incl. validation {(time.perf_counter() - t0) * 1000:.0f} ms")


def test_palette_drop_on_a_wire_inserts_the_layer(canvas):
    view, d = canvas
    a = view.add_layer("Input", QPointF(0, 100))
    b = view.add_layer("Output", QPointF(700, 100))
    d.connect(a, b)
    wire = view.wire_item(view.model().edges()[0].id)
    data = QMimeData()
    data.setData(LAYER_MIME, b"Flatten")
    local = QPointF(view.mapFromScene(wire.path().pointAtPercent(0.5)))
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), QDragEnterEvent(local.toPoint(), *args))
    QApplication.sendEvent(view.viewport(), QDropEvent(local, *args))
    m = view.model()
    (f,) = [n for n in m.nodes() if m.type_of(n) == "Flatten"]
    assert {(e.src, e.dst) for e in m.edges()} == {(a, f), (f, b)}
    view.undo_stack().undo()
    assert len(m) == 2 and len(m.edges()) == 1


def test_every_layer_title_stays_whole_on_its_card(qtbot):
    """A card's title is never cut short: a long one ("Transformer encoder") is drawn a
    pixel or two smaller, and stays clear of the error badge."""
    from studio.graph.layers import LAYERS
    from PySide6.QtGui import QFontMetricsF
    m = GraphModel()
    for type_ in LAYERS:
        if type_ not in ("Block", "BlockInput", "BlockOutput", "Opaque"):
            m.add_node(type_, {}, (0, 0))
    view = CanvasView()
    qtbot.addWidget(view)
    view.set_model(m, QUndoStack())
    for nid in m.nodes():
        item = view.node_item(nid)
        title = LAYERS[m.type_of(nid)].title
        assert item._title == title, (nid, item._title)
        assert item._title_font.pixelSize() >= 10
        badge_left = item.badge.pos().x() - item.badge.R
        assert 24 + QFontMetricsF(item._title_font).horizontalAdvance(title) <= badge_left, nid
