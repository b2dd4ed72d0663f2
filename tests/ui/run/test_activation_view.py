"""The Activations tab: filled after every epoch of a real run, follows the
layer chosen on the canvas, and refreshes on demand; before any run it shows
the untrained network on the previewed dataset."""
from pathlib import Path


from tests.ui import run_testkit, testkit

ARTIFACTS = Path(__file__).resolve().parents[2] / "_artifacts"


def test_activations_follow_training_and_the_canvas(window, qtbot):
    panel = window.run_panel
    view = panel.activations
    assert view.refresh_now() is False and "Nothing to run yet" in view.caption.text()
    run_testkit.quick(panel, samples=400, epochs=2)
    seen = []
    panel.session.activations_ready.connect(lambda latest: seen.append(latest[0]))
    with qtbot.waitSignal(panel.run_finished, timeout=120000):
        assert panel.train()
    qtbot.waitUntil(lambda: seen == [1, 2], timeout=10000)
    assert view.node.count() >= 10 and view.example.count() == 4
    assert "after epoch 2" in view.caption.text()

    testkit.select(window, "conv2d1")
    assert view.node.currentText() == "conv2d1"
    assert "16 feature maps 32×32" in view.caption.text()
    assert not view.picture.pixmap().isNull() and not view.input.pixmap().isNull()
    tab = next(i for i in range(panel.tabs.count()) if panel.tabs.tabText(i) == "Activations")
    panel.tabs.setCurrentIndex(tab)  # the last tab is Sweep now
    qtbot.wait(50)
    ARTIFACTS.mkdir(exist_ok=True)
    window.grab().save(str(ARTIFACTS / "activations_maps.png"))

    testkit.select(window, "linear1")
    assert "64 values" in view.caption.text()
    view.example.setCurrentIndex(3)
    assert view.refresh_now() and "from the current weights" in view.caption.text()
    window.grab().save(str(ARTIFACTS / "activations_bars.png"))


def test_the_gaps_between_feature_maps_are_grey_not_a_value():
    import torch
    from studio.train import activations
    from studio.ui.run.activation_view import _RAMP, GAP, colourize

    rgb = colourize(activations.summarize(torch.randn(4, 3, 3)).image)  # 2×2 maps, one-pixel gaps
    assert tuple(rgb[3, 0]) == GAP and tuple(rgb[0, 3]) == GAP
    ramp = {tuple(int(c) for c in colour) for colour in _RAMP}
    assert GAP not in ramp and tuple(rgb[0, 0]) != GAP
