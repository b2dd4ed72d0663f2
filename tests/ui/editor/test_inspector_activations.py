"""The inspector's Activations section: the full output view of the node chosen
by clicking its card, from the latest probe snapshot (each epoch end of a real
run) or on demand from the current weights when idle."""
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.ui import run_testkit, testkit

ARTIFACTS = Path(__file__).resolve().parents[2] / "_artifacts"
SAMPLES = run_testkit.SAMPLES


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with run_testkit.shapes_window(qtbot, tmp_path, monkeypatch) as w:
        yield w


def _section(window):
    section = window.inspector.activations
    assert section is not None and section.node == window.inspector.node_id
    return section


def _save(window, name: str) -> None:
    """The window, scrolled to the section, and the inspector alone, at full size."""
    window.inspector.ensureWidgetVisible(window.inspector.activations, 0, 0)
    testkit._process()
    ARTIFACTS.mkdir(exist_ok=True)
    window.grab().save(str(ARTIFACTS / name))
    window.inspector.grab().save(str(ARTIFACTS / name.replace(".png", "_inspector.png")))


def test_section_follows_the_epochs_of_a_run(window, qtbot):
    panel = window.run_panel
    testkit.select(window, "conv2d1")
    section = _section(window)
    assert section.body.isVisible() and "Train, or press Refresh" in section.caption.text()
    run_testkit.quick(panel, samples=400, epochs=2)
    shown = []
    # After the Activations tab (connected first) has taken each epoch's snapshot:
    panel.session.activations_ready.connect(lambda _: shown.append(_section(window).caption.text()))
    assert panel.train()
    assert not window.inspector.activations.refresh.isEnabled()   # training: epochs update it
    with qtbot.waitSignal(panel.run_finished, timeout=120000):
        pass
    qtbot.waitUntil(lambda: "after epoch 2" in _section(window).caption.text(), timeout=10000)
    section = _section(window)  # rebuilt when editing unlocked
    assert section.refresh.isEnabled()
    assert any("after epoch 1" in s for s in shown), shown
    assert section.caption.text().startswith("16 feature maps 32×32")
    pix = section.picture.pixmap()
    assert not pix.isNull() and 100 <= pix.width() <= window.inspector.viewport().width()
    assert section.example.count() == 4 and not section.input.pixmap().isNull()
    first = pix.toImage()
    section.example.setCurrentIndex(2)
    assert section.picture.pixmap().toImage() != first   # another example, other maps
    _save(window, "inspector_activations_maps.png")

    testkit.select(window, "linear1")
    section = _section(window)
    assert section.caption.text().startswith("64 values") and section.example.currentIndex() == 0
    _save(window, "inspector_activations_bars.png")
    qtbot.mouseClick(section.header, Qt.MouseButton.LeftButton)   # collapse: it stays collapsed
    assert not section.body.isVisible()
    testkit.select(window, "conv2d2")
    assert not _section(window).body.isVisible()


def test_refresh_from_current_weights_when_idle(window, qtbot):
    panel = window.run_panel
    testkit.select(window, "relu1")
    section = _section(window)
    qtbot.mouseClick(section.refresh, Qt.MouseButton.LeftButton)
    assert "Nothing to run yet" in section.caption.text() and section.picture.isHidden()
    _save(window, "inspector_activations_empty.png")
    with qtbot.waitSignal(panel.form.dataset_loaded, timeout=60000):   # Preview samples
        qtbot.mouseClick(panel.form.preview_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(section.refresh, Qt.MouseButton.LeftButton)
    assert section.caption.text() == "16 feature maps 32×32, from the current weights"
    assert not section.picture.isHidden() and not section.picture.pixmap().isNull()
    _save(window, "inspector_activations_refreshed.png")

    # Another project: the old snapshot is not shown under a node id it happens to share.
    assert window.open_path(SAMPLES / "digits_autoencoder.studio.json", confirm=False)
    testkit.select(window, "linear2")
    assert "Train, or press Refresh" in _section(window).caption.text()
    testkit.select(window, "input1")
    assert window.inspector.activations is None   # no output of its own


def test_a_layer_inside_a_block_shows_its_own_output(window, qtbot):
    from studio.graph.blocks import group
    panel = window.run_panel
    rec = group(window.project.model, ["conv2d1", "relu1"], "Stem", nid="stem")
    with qtbot.waitSignal(panel.form.dataset_loaded, timeout=60000):   # Preview samples
        qtbot.mouseClick(panel.form.preview_button, Qt.MouseButton.LeftButton)
    assert window.canvas.open_block(rec.block)
    testkit.select(window, "relu1")
    section = window.inspector.activations
    assert section is not None and section.node == "stem.relu1"
    qtbot.mouseClick(section.refresh, Qt.MouseButton.LeftButton)
    assert window.inspector.activations.caption.text() == "16 feature maps 32×32, from the current weights"
    testkit.select(window, "conv2d1")   # the Activations tab follows the canvas by module path too
    assert panel.activations.node.currentText() == "stem.conv2d1"
    _save(window, "inspector_activations_inside_block.png")
