"""Screenshots of the default-size window (1400×900) while training and after,
light and dark, in tests/_artifacts/ (not committed) for a person to look at.
The assertions are what a screenshot must show: the curves tab, a progress text,
the validation metric and the results at a readable size."""
from pathlib import Path

import pytest

from tests.ui import run_testkit, testkit

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_default_size_window_while_and_after_training(qtbot, tmp_path, monkeypatch, dark):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch, dark=dark, size=(1400, 900))
    assert w.open_path(run_testkit.shapes_project_file(tmp_path / "proj"), confirm=False)
    panel = w.run_panel
    run_testkit.quick(panel, samples=1000, epochs=3)
    name = "dark" if dark else "light"
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {}

    def while_training(_events):
        if "running" not in shots and panel.current is not None and panel.current.epochs:
            panel.plots.flush()
            shots["running"] = w.grab().save(str(ARTIFACTS / f"window_{name}_training.png"))

    panel.session.batches_arrived.connect(while_training)
    with qtbot.waitSignal(panel.run_finished, timeout=180000) as blocker:
        assert panel.train()
    assert blocker.args[0].error is None
    qtbot.wait(50)
    assert w.grab().save(str(ARTIFACTS / f"window_{name}_trained_curves.png"))
    panel.tabs.setCurrentIndex(1)  # Results
    qtbot.wait(50)
    assert w.grab().save(str(ARTIFACTS / f"window_{name}_trained_results.png"))
    assert shots.get("running")
    assert panel.val_label.text().startswith("val accuracy")
    panel.shutdown(10000)
