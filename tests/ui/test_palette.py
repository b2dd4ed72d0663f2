"""The layer palette: every layer listed by category, search, drag data,
double-click to add."""
import pytest

from studio.graph.layers import LAYERS, by_category
from tests.ui import testkit
from studio.ui.editor.canvas import LAYER_MIME


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch)


PALETTE = {t for t, s in LAYERS.items() if s.palette}


def test_every_layer_is_listed_under_its_category(window):
    tree = window.palette.tree
    heads = [tree.topLevelItem(i).text(0).title() for i in range(tree.topLevelItemCount())]
    assert heads == [c.title() for c, specs in by_category().items() if specs] + ["My Blocks"]
    assert set(window.palette.visible_types()) == PALETTE
    for type_, spec in LAYERS.items():
        if not spec.palette:  # opaque modules come from imports only
            continue
        item = window.palette.item_for(type_)
        assert item.parent().text(0) == spec.category.upper()
        assert spec.description[:30] in item.toolTip(0)
        assert not item.icon(0).isNull()


def test_search_filters_by_name_and_category(window):
    pal = window.palette
    pal.search.setText("lstm")
    assert pal.visible_types() == ["LSTM"]
    pal.search.setText("pool")
    assert set(pal.visible_types()) == {"MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Upsample"}  # the category
    pal.search.setText("recurrent")  # a category name shows its whole group
    assert "GRU" in pal.visible_types() and "Conv2d" not in pal.visible_types()
    pal.search.setText("zzz")
    assert pal.visible_types() == []
    pal.search.clear()
    assert len(pal.visible_types()) == len(PALETTE)


def test_drag_carries_the_layer_type(window):
    mime = window.palette.tree.mimeData([window.palette.item_for("Conv2d")])
    assert bytes(mime.data(LAYER_MIME)).decode() == "Conv2d"
    head = window.palette.tree.topLevelItem(0)
    assert not head.flags() & head.flags().ItemIsDragEnabled


def test_double_click_and_enter_add_at_centre(window, qtbot):
    pal = window.palette
    pal.tree.itemDoubleClicked.emit(pal.item_for("ReLU"), 0)
    (nid,) = window.project.model.nodes()
    assert window.project.model.type_of(nid) == "ReLU"
    assert window.canvas.selected_nodes() == [nid] and window.inspector.node_id == nid
    pal.search.setText("gelu")
    qtbot.keyClick(pal.search, "\r")
    assert sorted(window.project.model.type_of(n) for n in window.project.model.nodes()) == ["GELU", "ReLU"]


def test_drop_on_canvas_adds_where_dropped(window):
    from PySide6.QtCore import QPointF
    nid = testkit.drop_layer(window, "Linear", QPointF(400, 200))
    rect = window.canvas.node_scene_rect(nid)
    assert (rect.center() - QPointF(400, 200)).manhattanLength() < 60
