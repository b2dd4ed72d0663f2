"""The Digits autoencoder sample from the real window: trained (reconstruction
only), its 4-number code in the embedding view, chosen by clicking the
bottleneck's card; the inspector shows the code's bar strip.
How far the trained code agrees with the classes is asserted over seeds in
tests/train/test_cluster_emergence.py; here, that the window shows it."""
import re
import shutil
from pathlib import Path

import pytest

from tests.ui import run_testkit, testkit

ARTIFACTS = Path(__file__).resolve().parents[2] / "_artifacts"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch, size=(1400, 900))
    (tmp_path / "proj").mkdir()
    target = tmp_path / "proj" / "digits_autoencoder.studio.json"
    shutil.copyfile(run_testkit.SAMPLES / "digits_autoencoder.studio.json", target)
    assert w.open_path(target, confirm=False)
    yield w
    w.run_panel.shutdown(10000)
    w.undo_stack.clear()


def _train(window, qtbot, epochs: int) -> None:
    panel = window.run_panel
    run_testkit.set_setting(panel, "train", "epochs", epochs)
    run_testkit.set_setting(panel, "train", "device", "cpu")
    with qtbot.waitSignal(panel.run_finished, timeout=120000) as blocker:
        assert panel.train()
    assert blocker.args[0].status == "finished", blocker.args[0].message


def _code_ari(window, qtbot, method: str = "pca") -> tuple[float, object]:
    dialog = window.run_panel.results.open_embedding()
    dialog.method.setCurrentIndex(dialog.method.findData(method))
    dialog.result = None
    testkit.select(window, "linear2")   # the bottleneck, chosen on the canvas
    qtbot.waitUntil(lambda: dialog.result is not None and dialog.result[0] == "linear2", timeout=60000)
    node, emb, clusters, y = dialog.result
    assert emb.shape == (359, 2) and clusters.k == 10
    shown = re.search(r"adjusted Rand index (\d\.\d\d)", dialog.status.text())
    assert shown and abs(float(shown.group(1)) - clusters.ari) < 0.01
    return clusters.ari, dialog


def test_the_code_groups_the_digits_after_training(window, qtbot):
    _train(window, qtbot, 30)
    trained, dialog = _code_ari(window, qtbot, "tsne")
    assert trained > 0.3   # seed 0 measured 0.67; untrained networks 0.12-0.28
    ARTIFACTS.mkdir(exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "digits_embedding_tsne.png"))
    # The same network with its starting weights, for the comparison a learner makes.
    dialog.result = None
    dialog.weights.setCurrentIndex(dialog.weights.findData("untrained"))
    dialog.weights.activated.emit(dialog.weights.currentIndex())
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    untrained = dialog.result[2].ari
    assert untrained < trained - 0.15  # bench/cluster_emergence.py, 10 seeds: 0.12-0.28 against 0.51-0.67
    text = dialog.status.text()
    assert "untrained weights" in text and f"The trained network scored {trained:.2f} here" in text
    dialog.grab().save(str(ARTIFACTS / "digits_embedding_untrained.png"))
    dialog.close()

    section = window.inspector.activations
    assert section.caption.text().startswith("4 values") and "after epoch 30" in section.caption.text()
    panel = window.run_panel
    panel.tabs.setCurrentIndex(next(i for i in range(panel.tabs.count()) if panel.tabs.tabText(i) == "Results"))
    qtbot.wait(50)
    window.inspector.ensureWidgetVisible(section, 0, 0)
    qtbot.wait(50)
    window.grab().save(str(ARTIFACTS / "digits_autoencoder_window.png"))
