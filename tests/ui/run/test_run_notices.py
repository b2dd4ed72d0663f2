"""What the trainer tells the user reaches the window: the progress bar says that speed
settings are being chosen (seconds for a large network) instead of a frozen "Building
the model…", and the speed figure's tooltip keeps what was chosen."""
from PySide6.QtCore import Slot

from studio.train.calibrate import MEASURING
from studio.ui.run import history
from tests.ui import run_testkit, testkit


def test_choosing_speed_settings_shows_on_the_progress_bar(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no cached choice: it is measured
    w = testkit.make_window(qtbot, tmp_path, monkeypatch)
    assert w.open_path(run_testkit.shapes_project_file(tmp_path / "proj"), confirm=False)
    panel = w.run_panel
    run_testkit.quick(panel, samples=300, epochs=1)
    seen = []

    @Slot(str)
    def after_panel(text):  # connected after the panel's own slot: sees what it showed
        seen.append((text, panel.progress.format()))
    panel.session.notice.connect(after_panel)
    with qtbot.waitSignal(panel.run_finished, timeout=120000) as done:
        assert panel.train()
    assert done.args[0].status == "finished"
    assert (MEASURING, MEASURING) in seen  # on the bar while it was measured
    tip = panel.speed_label.toolTip()
    assert tip.startswith("This run: ") and "speed settings: " in tip and MEASURING not in tip
    assert panel.progress.format().startswith("Finished")
    # The notes are the run's: saved beside the project and on its tooltip after a restart.
    run = panel.current
    assert run.notes and any(n.startswith("speed settings: ") for n in run.notes) and MEASURING not in run.notes
    reloaded, problems = history.load_runs(history.runs_dir(w.project.path))
    assert problems == [] and reloaded[-1].notes == run.notes
    assert "Note: speed settings: " in reloaded[-1].tooltip()
    w.run_panel.shutdown(10000)
    w.undo_stack.clear()
