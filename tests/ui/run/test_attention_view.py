"""Attention maps in the window: the waves Transformer trained for two epochs, its
encoder chosen on the canvas; the Activations tab and the inspector show a T×T map
per layer and head (or the mean of heads), the output view stays one choice away,
and any other layer shows its output as before."""
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.ui import run_testkit, testkit

ARTIFACTS = Path(__file__).resolve().parents[2] / "_artifacts"
SAMPLE = run_testkit.SAMPLES / "waves_transformer.studio.json"
ENCODER, T = "transformerencoder1", 32


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch)
    (tmp_path / "proj").mkdir()
    path = tmp_path / "proj" / SAMPLE.name
    shutil.copyfile(SAMPLE, path)  # runs are written beside it
    assert w.open_path(path, confirm=False)
    yield w
    w.run_panel.shutdown(10000)
    w.undo_stack.clear()


def _image(label):
    return label.pixmap().toImage()


def _is_map(pix, steps: int) -> bool:
    """A square heat map of whole-pixel cells under and beside the step numbers."""
    from studio.ui.run.attention_view import LEFT, TOP
    w, h = pix.width() - LEFT - 2, pix.height() - TOP - 2
    return w == h and w % steps == 0 and w >= 2 * steps


def test_the_encoder_shows_its_attention_per_layer_and_head(window, qtbot):
    from studio.ui.run.attention_view import HOW_TO_READ
    panel, view = window.run_panel, window.run_panel.activations
    testkit.edit_param(window, ENCODER, "num_layers", 2)
    for section, key, value in (("data", "samples", 200), ("data", "val_split", 0.2), ("train", "epochs", 2),
                                ("train", "batch_size", 32), ("train", "device", "cpu")):
        run_testkit.set_setting(panel, section, key, value)
    panel.tabs.setCurrentIndex(next(i for i in range(panel.tabs.count()) if panel.tabs.tabText(i) == "Activations"))
    testkit.select(window, ENCODER)   # chosen before training: the run works out its maps
    assert view.wish.nodes() == {ENCODER}
    with qtbot.waitSignal(panel.run_finished, timeout=120000):
        assert panel.train()
    qtbot.waitUntil(lambda: "after epoch 2" in view.caption.text(), timeout=10000)

    # The Activations tab: the encoder's map, mean of heads of the first layer.
    assert view.node.currentText() == ENCODER and view.chooser.isVisible()
    assert view.attention[ENCODER].shape == (4, 2, 4, T, T)   # examples, layers, heads, T×T
    assert view.chooser.layer.count() == 2 and view.chooser.head.count() == 5   # the mean and 4 heads
    assert "layer 1, mean of heads" in view.caption.text() and "even spread 0.03" in view.caption.text()
    assert view.legend.isVisible() and view.legend.text() == HOW_TO_READ
    assert _is_map(view.picture.pixmap(), T)
    mean = _image(view.picture)
    view.chooser.head.setCurrentIndex(2)
    assert "head 2" in view.caption.text() and _image(view.picture) != mean
    head2 = _image(view.picture)
    view.chooser.layer.setCurrentIndex(1)
    assert "layer 2, head 2" in view.caption.text() and _image(view.picture) != head2
    view.example.setCurrentIndex(1)
    assert _image(view.picture) != head2
    view.chooser.head.setCurrentIndex(0)
    window.resizeDocks([window.run_dock], [520], Qt.Orientation.Vertical)   # room for the whole map
    testkit._process()
    ARTIFACTS.mkdir(exist_ok=True)
    window.grab().save(str(ARTIFACTS / "attention_map_tab.png"))
    view.chooser.show_what.setCurrentIndex(1)   # the output, T×F, as for any layer
    assert f"{T} steps × 16 features" in view.caption.text() and not view.chooser.layer.isVisible()
    assert not view.legend.isVisible()
    assert view.wish.nodes() == {ENCODER}   # the inspector still shows its map
    view.chooser.show_what.setCurrentIndex(0)

    # The inspector's section: the same maps, its own choice of layer and head.
    section = window.inspector.activations
    assert section.node == ENCODER and section.chooser.isVisible()
    assert HOW_TO_READ in section.caption.text() and _is_map(section.picture.pixmap(), T)
    first = _image(section.picture)
    section.chooser.head.setCurrentIndex(4)
    assert "head 4" in section.caption.text() and _image(section.picture) != first
    section.chooser.layer.setCurrentIndex(1)
    window.inspector.ensureWidgetVisible(section, 0, 0)
    testkit._process()
    window.grab().save(str(ARTIFACTS / "attention_map_inspector.png"))
    window.set_dark(True)
    testkit._process()
    window.inspector.ensureWidgetVisible(window.inspector.activations, 0, 0)
    testkit._process()
    window.grab().save(str(ARTIFACTS / "attention_map_dark.png"))
    window.set_dark(False)

    # Any other layer: its output as before, no chooser.
    testkit.select(window, "mean1")
    assert view.node.currentText() == "mean1" and not view.chooser.isVisible()
    assert view.caption.text().startswith("mean1: 16 values")
    assert not window.inspector.activations.chooser.isVisible()
    assert window.inspector.activations.caption.text().startswith("16 values")
    assert view.wish.nodes() == set()   # nobody looks at the encoder's maps now


def test_maps_come_on_demand_when_no_view_asked_during_the_run(window, qtbot):
    from studio.ui.run.attention_view import NOT_YET
    panel, view = window.run_panel, window.run_panel.activations
    for section, key, value in (("data", "samples", 100), ("train", "epochs", 1), ("train", "device", "cpu")):
        run_testkit.set_setting(panel, section, key, value)
    testkit.select(window, "linear1")
    with qtbot.waitSignal(panel.run_finished, timeout=120000):
        assert panel.train()
    qtbot.waitUntil(lambda: "after epoch 1" in view.caption.text(), timeout=10000)
    assert view.attention == {ENCODER: None}   # known to be attention, not worked out
    testkit.select(window, ENCODER)
    section = window.inspector.activations
    assert section.chooser.isVisible() and section.caption.text() == NOT_YET
    assert section.refresh_now() and _is_map(section.picture.pixmap(), T)
    assert "from the current weights" in section.caption.text()


VIT = """
from torchvision.models import VisionTransformer


class Tiny(VisionTransformer):
    def __init__(self):
        super().__init__(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                         num_classes=4)
"""


def test_an_imported_vit_encoder_maps_its_patches_and_class_token(qtbot, tmp_path, monkeypatch):
    from studio.importer import import_model, write
    (tmp_path / "vit.py").write_text(VIT)
    (tmp_path / "proj").mkdir()
    write(import_model(f"{tmp_path / 'vit.py'}:Tiny", input="image:3,32,32", flat=True),
          tmp_path / "proj" / "vit.studio.json")
    window = testkit.make_window(qtbot, tmp_path, monkeypatch)
    try:
        assert window.open_path(tmp_path / "proj" / "vit.studio.json", confirm=False)
        panel = window.run_panel
        run_testkit.set_setting(panel, "data", "dataset", "shapes")
        run_testkit.set_setting(panel, "data", "samples", 100)
        with qtbot.waitSignal(panel.form.dataset_loaded, timeout=60000):   # Preview samples
            qtbot.mouseClick(panel.form.preview_button, Qt.MouseButton.LeftButton)
        model = window.project.model
        encoders = sorted(n for n in model.nodes() if model.type_of(n) == "TransformerEncoder")
        assert len(encoders) == 2
        testkit.select(window, encoders[0])
        section = window.inspector.activations
        qtbot.mouseClick(section.refresh, Qt.MouseButton.LeftButton)   # the untrained network, on demand
        section = window.inspector.activations
        assert section.chooser.isVisible() and section.chooser.head.count() == 3   # the mean and 2 heads
        assert _is_map(section.picture.pixmap(), 17)   # 4×4 patches and the class token
        assert "from the current weights" in section.caption.text()
        window.inspector.ensureWidgetVisible(section, 0, 0)
        testkit._process()
        window.grab().save(str(ARTIFACTS / "attention_map_vit.png"))
    finally:
        window.run_panel.shutdown(10000)
        window.undo_stack.clear()
