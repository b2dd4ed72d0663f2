"""Friction a new user met (issue 12), each driven through the UI as they did."""
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.ui import testkit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch)


# Friction: results readable at 1400×900; the training panel cannot be torn off by accident.
def test_results_tab_gets_room_and_the_panel_does_not_undock(window, qtbot):
    from PySide6.QtWidgets import QDockWidget
    dock, panel = window.run_dock, window.run_panel
    assert not dock.features() & QDockWidget.DockWidgetFeature.DockWidgetFloatable
    assert not dock.features() & QDockWidget.DockWidgetFeature.DockWidgetMovable
    assert dock.height() < 400
    panel.tabs.setCurrentIndex([panel.tabs.tabText(i) for i in range(panel.tabs.count())].index("Results"))
    qtbot.wait(20)
    assert dock.height() >= 0.55 * window.height(), dock.height()
    assert panel.results.confusion.height() >= 250


def _luminance(color) -> float:
    return 0.299 * color.red() + 0.587 * color.green() + 0.114 * color.blue()


def _max_contrast(image, rect, background) -> float:
    bg = _luminance(background)
    return max(abs(_luminance(image.pixelColor(x, y)) - bg)
               for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom()))


# Friction, dark theme: unchecked checkboxes and the dataset preview's class labels are visible.
def test_dark_theme_checkboxes_and_preview_labels_are_visible(qtbot, tmp_path, monkeypatch):
    import numpy as np
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QCheckBox
    from studio.ui.run.samples import Sample, SampleGrid
    w = testkit.make_window(qtbot, tmp_path, monkeypatch, dark=True)
    from PySide6.QtWidgets import QApplication
    assert w.isVisible()
    bg = QApplication.palette().color(QPalette.ColorRole.Window)
    box = QCheckBox("Random horizontal flips", w)
    box.resize(200, 24)
    box.show()
    image = box.grab().toImage()
    assert _max_contrast(image, QRect(0, 0, 20, 24), bg) > 60  # the empty box's outline shows
    grid = SampleGrid(thumb=32)
    qtbot.addWidget(grid)
    grid.set_samples([Sample(np.zeros((32, 32, 3), np.uint8), "circle")] * 4)
    grid.resize(300, 80)
    grid.show()
    image = grid.grab().toImage()
    caption = QRect(0, 36, grid.width(), 14)
    assert _max_contrast(image, caption, grid.palette().color(QPalette.ColorRole.Window)) > 80


# Friction: palette search "output" ranks Output first, and Enter adds it.
def test_palette_search_ranks_name_matches_first(window, qtbot):
    palette = window.palette
    qtbot.keyClicks(palette.search, "output")
    assert palette.visible_types()[0] == "Output"
    assert palette.tree.currentItem() is palette.item_for("Output")
    head = palette.item_for("Output").parent()
    assert head.indexOfChild(palette.item_for("Output")) < head.indexOfChild(palette.item_for("Input"))
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert [window.project.model.type_of(n) for n in window.project.model.nodes()] == ["Output"]
    palette.search.clear()
    assert head.indexOfChild(palette.item_for("Input")) < head.indexOfChild(palette.item_for("Output"))


# Friction: an empty canvas says how to start; a blank project trains offline; no crops for sequences.
def test_blank_project_hint_offline_dataset_and_no_image_augmentation_for_sequences(window, qtbot):
    from PySide6.QtCore import QPointF, QRect
    from tests.ui import run_testkit
    canvas = window.canvas
    window.actions_.new.trigger()
    assert window.project.data.dataset == "shapes" and not window.isWindowModified()
    vp = canvas.viewport()
    middle = QRect(0, vp.height() // 2 - 10, vp.width(), 20)
    background = canvas.scene().theme.color("background")
    assert _max_contrast(vp.grab().toImage(), middle, background) > 70  # the hint's text
    testkit.drop_layer(window, "Input", QPointF(0, 0))
    canvas.centerOn(QPointF(-3000, -3000))
    qtbot.wait(10)
    assert _max_contrast(vp.grab().toImage(), middle, background) < 70  # gone with the first layer
    panel = window.run_panel
    rows, w = panel.form.data.rows, panel.form.fields.widget
    assert rows.isRowVisible(w("data", "augment_crop")) and rows.isRowVisible(w("data", "augment_flip"))
    run_testkit.set_setting(panel, "data", "dataset", "waves")
    assert not rows.isRowVisible(w("data", "augment_crop")) and not rows.isRowVisible(w("data", "augment_flip"))


# Friction: Help has Getting Started (five steps, each with a picture) and About (versions).
def test_help_getting_started_and_about(window, qtbot, monkeypatch):
    import torch
    from PySide6.QtCore import qVersion
    from PySide6.QtWidgets import QDialog
    from studio.ui.shell.guide_dialog import AboutDialog, GettingStartedDialog
    shown = []
    monkeypatch.setattr(QDialog, "exec", lambda self: shown.append(self) or 0)
    titles = [a.text() for a in window.menu_help.actions()]
    assert {"&Getting Started", "&About Studio", "&Keyboard and Mouse"} <= set(titles)
    window.actions_.getting_started.trigger()
    window.actions_.about.trigger()
    guide, about = shown
    assert isinstance(guide, GettingStartedDialog) and isinstance(about, AboutDialog)
    assert len(guide.pictures) == 5 and all(not p.pixmap().isNull() for p in guide.pictures)
    text = about.text.text()
    assert torch.__version__ in text and qVersion() in text and "Device" in text
    guide.show()
    qtbot.waitExposed(guide)
    from pathlib import Path
    artifacts = Path(__file__).resolve().parents[1] / "_artifacts"
    artifacts.mkdir(exist_ok=True)
    guide.grab().save(str(artifacts / "getting_started.png"))


# Friction: Ctrl+V pastes at the mouse cursor, not on top of the originals.
def test_paste_lands_at_the_cursor(window, qtbot):
    from PySide6.QtCore import QEvent, QPointF
    canvas = window.canvas
    a = testkit.drop_layer(window, "Linear", QPointF(0, 0))
    testkit.select(window, a)
    qtbot.keyClick(canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    target = QPointF(canvas.mapToScene(canvas.viewport().rect().center())) + QPointF(200, 120)
    testkit._mouse(canvas.viewport(), QEvent.Type.MouseMove, QPointF(canvas.mapFromScene(target)),
                   Qt.MouseButton.NoButton)
    qtbot.keyClick(canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    m = window.project.model
    (b,) = set(m.nodes()) - {a}
    x, y = m.pos(b)
    assert abs(x - target.x()) <= 20 and abs(y - target.y()) <= 20, (m.pos(b), target)
    qtbot.keyClick(canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)  # again: not stacked
    assert len({m.pos(n) for n in m.nodes()}) == 3


def _drop_wire_on_empty_canvas(window, src: str):
    from PySide6.QtCore import QEvent, QPointF
    canvas = window.canvas
    a = canvas.port_scene_pos(src, "out", "out")
    canvas.centerOn(a)
    vp = canvas.viewport()
    pa = QPointF(canvas.mapFromScene(a))
    pb = pa + QPointF(180, 40)
    testkit._mouse(vp, QEvent.Type.MouseButtonPress, pa, Qt.MouseButton.LeftButton)
    for i in range(1, 6):
        testkit._mouse(vp, QEvent.Type.MouseMove, pa + (pb - pa) * (i / 5), Qt.MouseButton.LeftButton)
    testkit._mouse(vp, QEvent.Type.MouseButtonRelease, pb, Qt.MouseButton.NoButton)
    testkit._process()
    popup = canvas.quick_add_popup()
    assert popup is not None
    return popup, [popup.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(popup.list.count())]


# Friction: the quick-add list after dropping a wire holds only layers that take its shape, likely ones first.
def test_quick_add_after_a_wire_lists_layers_that_fit_its_shape(window, qtbot):
    from PySide6.QtCore import QPointF
    from studio.ui.editor.canvas.quick_add import matching_layers
    image = testkit.drop_layer(window, "Input", QPointF(0, 0))
    popup, listed = _drop_wire_on_empty_canvas(window, image)
    assert "Conv2d" in listed and "Flatten" in listed
    assert "LSTM" not in listed and "Linear" not in listed  # they refuse a 3×32×32 image
    assert len(listed) < len(matching_layers("", "in"))
    assert listed[0] == "Conv2d", listed[:5]
    qtbot.keyClick(popup.search, Qt.Key.Key_Escape)
    flat = testkit.drop_layer(window, "Flatten", QPointF(600, 0))
    testkit.drag_wire(window, image, flat)
    popup, listed = _drop_wire_on_empty_canvas(window, flat)
    assert listed[0] == "Linear" and "Conv2d" not in listed, listed[:5]
    qtbot.keyClick(popup.search, Qt.Key.Key_Escape)
