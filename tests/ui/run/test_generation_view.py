"""An autoencoder trained from the real window: Results shows inputs beside
their reconstructions per epoch, and a VAE adds samples from the prior and an
interpolation; the embedding view opens on the code."""
import shutil
from pathlib import Path

import pytest

from tests.ui import run_testkit, testkit

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
ARTIFACTS = Path(__file__).resolve().parents[2] / "_artifacts"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch, size=(1400, 900))
    yield w
    w.run_panel.shutdown(10000)
    w.undo_stack.clear()


@pytest.mark.parametrize("name, variational", [("shapes_autoencoder", False), ("shapes_vae", True)])
def test_autoencoder_results(window, qtbot, tmp_path, name, variational):
    target = tmp_path / "proj" / f"{name}.studio.json"
    target.parent.mkdir()
    shutil.copyfile(SAMPLES / f"{name}.studio.json", target)
    assert window.open_path(target, confirm=False)
    panel, results = window.run_panel, window.run_panel.results
    run_testkit.quick(panel, samples=600, epochs=2)
    with qtbot.waitSignal(panel.run_finished, timeout=120000) as blocker:
        assert panel.train()
    outcome = blocker.args[0]
    assert outcome.error is None and outcome.status == "finished"
    assert outcome.result.metric_name == "mae"
    assert not results.generation.isHidden() and results.classic.isHidden()

    recon = results.generation.recon.samples()
    assert len(recon) == 8 * 3  # the inputs, then a row per epoch
    assert [s.caption for s in recon[::8]] == ["input", "epoch 1", "epoch 2"]
    assert all(s.image.shape == (32, 32, 3) for s in recon)
    prior, walk = results.generation.prior.samples(), results.generation.walk.samples()
    if variational:
        assert len(prior) == 16 and all(s.image.shape == (32, 32, 3) for s in prior)
        assert len(walk) == 10 and walk[0].caption == "A → B"
        assert panel.current.epochs[-1]["kl"] > 0  # the KL term is logged per epoch
    else:
        assert prior == [] and results.generation.prior.isHidden()

    dialog = results.open_embedding()
    assert dialog.node.currentText() == ("gaussianlatent1" if variational else "linear1")
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    dialog.close()
    panel.tabs.setCurrentIndex(1)
    qtbot.wait(50)
    ARTIFACTS.mkdir(exist_ok=True)
    window.grab().save(str(ARTIFACTS / f"results_{name}.png"))
