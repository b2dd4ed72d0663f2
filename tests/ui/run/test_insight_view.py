"""The look inside from the real window: after a short run, "Embedding…" shows
a layer's outputs in 2-D with k-means agreement, follows the layer clicked on
the canvas, and "Test an image" adds Grad-CAM and integrated gradients."""
from pathlib import Path

from PIL import Image

from tests.ui import run_testkit, testkit

ARTIFACTS = Path(__file__).resolve().parents[2] / "_artifacts"


def test_embedding_and_explanations_after_a_run(window, qtbot, tmp_path):
    panel, results = window.run_panel, window.run_panel.results
    assert not results.inside.isEnabled()  # nothing trained yet
    run_testkit.quick(panel, samples=1500, epochs=3)
    with qtbot.waitSignal(panel.run_finished, timeout=120000) as blocker:
        assert panel.train()
    assert blocker.args[0].status == "finished"
    assert results.inside.isEnabled()

    dialog = results.open_embedding()
    assert dialog.node.currentText() == "relu3"  # the penultimate layer by default
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    assert "adjusted Rand index" in dialog.status.text()
    node, emb, clusters, y = dialog.result
    assert emb.shape == (len(y), 2) and clusters.k == 4
    assert clusters.ari is not None  # agreement itself is asserted in tests/train/test_insight.py
    ARTIFACTS.mkdir(exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "embedding_pca.png"))

    # Clicking a point shows its example.
    point = dialog.scatter.points()[0]
    dialog._clicked(dialog.scatter, [point])
    assert dialog.example.pixmap() is not None and "Example 0" in dialog.example_text.text()

    # Choosing a layer on the canvas shows that layer.
    testkit.select(window, "conv2d2")
    qtbot.waitUntil(lambda: dialog.result is not None and dialog.result[0] == "conv2d2", timeout=60000)
    assert dialog.node.currentText() == "conv2d2"
    dialog.close()

    # Test an image: Grad-CAM at the last conv layer and integrated gradients appear.
    x = window.run_panel.results.outcome.dataset.x_val[0].numpy().transpose(1, 2, 0)
    picture = tmp_path / "mine.png"
    Image.fromarray(x).save(picture)
    strip = results.test.explain
    assert strip.node.count() >= 2 and strip.node.currentText() == "maxpool2d2"
    assert results.test.test_file(str(picture)) is not None
    assert not strip.isHidden()
    assert not strip.cam.pixmap().isNull() and not strip.ig.pixmap().isNull()
    strip.node.setCurrentText("conv2d1")  # another layer redraws the map
    assert not strip.cam.pixmap().isNull()
    panel.tabs.setCurrentIndex(1)
    qtbot.wait(50)
    window.grab().save(str(ARTIFACTS / "results_explain.png"))
