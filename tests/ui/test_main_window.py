"""The main window's document life cycle: samples round-trip, bad files,
unsaved changes, settings persistence, locking, theme screenshots."""
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from studio.project import file as projects
from tests.ui import testkit
from studio.ui.shell.document import settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.studio.json"))
ARTIFACTS = ROOT / "tests" / "_artifacts"
Btn = QMessageBox.StandardButton


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch)


def test_window_exposes_the_run_panel_api(window):
    assert window.project.model is window.canvas.model()
    assert window.canvas.undo_stack() is window.undo_stack
    assert window.menu_export.title() == "&Export"
    assert window.windowTitle() == "Untitled[*] — Studio" and not window.isWindowModified()
    assert window.palette_dock.isVisible() and window.inspector_dock.isVisible()
    assert window.run_dock.widget() is not None


def test_every_sample_survives_open_save_reopen(window, tmp_path):
    assert len(SAMPLES) >= 1
    for sample in SAMPLES:
        assert window.open_path(sample), sample
        original = window.project.to_dict()
        assert original == projects.load(sample).to_dict()
        target = tmp_path / f"copy-{sample.name}"
        window.ask_save_path = lambda: str(target)
        assert window.save_as() and not window.isWindowModified()
        assert window.new_project() and len(window.project.model) == 0
        assert window.open_path(target)
        assert window.project.to_dict() == original, sample
    assert window.errors == []


def test_samples_dialog_lists_every_sample_with_a_preview(window, qtbot):
    from studio.ui.shell.samples_dialog import SamplesDialog
    dlg = SamplesDialog(ROOT / "samples", window)
    qtbot.addWidget(dlg)
    assert dlg.list.count() == len(SAMPLES)
    for row, path in enumerate(SAMPLES):
        dlg.list.setCurrentRow(row)
        p = projects.load(path)
        assert dlg.title.text() == p.name and dlg.selected_path() == path
        assert dlg.stats.text().startswith(f"{len(p.model)} layers")
        assert dlg.description.text() == (p.description or "No description.")
        assert len(dlg.preview.model) == len(p.model)
    empty = SamplesDialog(ROOT / "no-such-folder", window)
    qtbot.addWidget(empty)
    assert empty.selected_path() is None and "No samples" in empty.title.text()


def test_open_sample_action_opens_the_chosen_sample(window, monkeypatch):
    from studio.ui.shell import samples_dialog
    monkeypatch.setattr(samples_dialog.SamplesDialog, "exec", lambda self: 1)
    window.actions_.open_sample.trigger()
    assert window.project.name == projects.load(SAMPLES[0]).name and window.project.path is None


def test_exception_hook_logs_and_shows_a_dialog(tmp_path, qapp):
    from studio.ui.shell.app import ExceptionHook
    hook = ExceptionHook(tmp_path / "logs" / "studio.log")
    shown = []
    hook.show_dialog = lambda summary, details: shown.append(summary)
    try:
        raise RuntimeError("boom")
    except RuntimeError as e:
        hook(type(e), e, e.__traceback__)
    assert shown == ["RuntimeError: boom"]
    assert "RuntimeError: boom" in (tmp_path / "logs" / "studio.log").read_text()


def test_sample_opens_as_an_untitled_copy(window):
    with_signal = []
    window.project_replaced.connect(lambda: with_signal.append(True))
    assert window.open_path(SAMPLES[0], as_copy=True)
    assert with_signal and window.project.path is None and not window.isWindowModified()
    assert window.windowTitle().startswith(window.project.name)


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "other"}', b"\xff\xfe",
                                     b'{"format": "studio.project", "version": 1, "graph": '
                                     b'{"nodes": [{"id": "a", "type": "Nope"}], "edges": []}}'])
def test_corrupt_file_shows_dialog_and_keeps_document(window, tmp_path, content):
    assert window.open_path(SAMPLES[0])
    window.canvas.add_layer("ReLU")  # an unsaved edit that must survive
    before = window.project.to_dict()
    bad = tmp_path / "bad.studio.json"
    bad.write_bytes(content)
    assert not window.open_path(bad, confirm=False)
    assert len(window.errors) == 1 and "bad.studio.json" in window.errors[0][1]
    assert window.project.to_dict() == before and window.isWindowModified()


def test_save_error_shows_dialog_and_stays_dirty(window, tmp_path):
    window.canvas.add_layer("Input")
    window.ask_save_path = lambda: str(tmp_path / "missing-folder" / "x.studio.json")
    assert not window.save_as()
    assert window.errors and window.errors[0][0] == "Cannot save project"
    assert window.isWindowModified() and window.project.path is None


def test_close_with_unsaved_changes_asks_and_cancel_keeps_window(window, monkeypatch):
    window.canvas.add_layer("Input")
    asked = []
    monkeypatch.setattr(window, "ask_save_changes", lambda: asked.append(1) or Btn.Cancel)
    assert not window.close()
    assert asked and window.isVisible()
    monkeypatch.setattr(window, "ask_save_changes", lambda: Btn.Discard)
    assert window.close()


def test_undo_to_saved_state_is_clean(window, tmp_path):
    window.ask_save_path = lambda: str(tmp_path / "a.studio.json")
    window.canvas.add_layer("Input")
    assert window.save() and not window.isWindowModified()
    window.canvas.add_layer("ReLU")
    assert window.isWindowModified()
    window.actions_.undo.trigger()
    assert not window.isWindowModified()
    assert window.windowTitle() == "a[*] — Studio"


def test_recent_files_and_theme_persist(qtbot, window, tmp_path, monkeypatch):
    assert window.open_path(SAMPLES[0])
    window.actions_.dark.setChecked(True)
    window.close()
    again = testkit.make_window(qtbot, tmp_path, monkeypatch, dark=None)
    assert again.actions_.dark.isChecked()
    assert again.document.recent_files()[0] == str(SAMPLES[0].resolve())
    again.fill_recent_menu()
    assert SAMPLES[0].name in again.menu_recent.actions()[0].text()
    assert settings().fileName().startswith(str(tmp_path))
    assert settings().value("window/geometry") is not None


def test_editing_keys_go_to_the_canvas_not_to_focused_fields(window, qtbot):
    from PySide6.QtCore import Qt
    a = window.canvas.add_layer("Linear")
    window.canvas.select_nodes([a])
    spin = window.inspector.editors["out_features"].widget
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Backspace)
    assert a in window.project.model.nodes()  # Backspace edited the field, not the graph
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(window.project.model) == 2
    window.canvas.select_nodes([a])
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert a not in window.project.model.nodes() and len(window.project.model) == 1
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert a in window.project.model.nodes()


def test_locking_disables_structural_editing(window):
    window.set_editing_locked(True)
    a = window.actions_
    assert not a.delete.isEnabled() and not a.undo.isEnabled() and not window.palette.isEnabled()
    assert a.copy.isEnabled() and a.fit.isEnabled()
    window.add_layer_at_centre("ReLU")
    assert len(window.project.model) == 0
    window.set_editing_locked(False)
    assert a.delete.isEnabled() and window.palette.isEnabled()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_screenshot(qtbot, tmp_path, monkeypatch, dark):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch, dark=dark, size=(1400, 900))
    assert w.open_path(ROOT / "samples" / "cifar10_cnn.studio.json")
    qtbot.wait(20)
    w.canvas.fit()
    w.canvas.select_nodes(["conv2d2"])
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"main_{'dark' if dark else 'light'}.png"
    assert w.grab().save(str(out))
    assert out.stat().st_size > 20_000


def test_window_works_without_the_training_panel(qtbot, tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "studio.ui.run.dock", None)  # import fails as if absent
    w = testkit.make_window(qtbot, tmp_path, monkeypatch)
    assert w.run_dock.widget() is w.run_placeholder
    assert w.run_placeholder.text() == "Training panel is not available in this build"
    assert w.open_path(SAMPLES[0]) and len(w.project.model) > 0


def test_help_lists_the_gestures(window, monkeypatch):
    from studio.ui.shell import help_dialog
    shown = []
    monkeypatch.setattr(help_dialog.HelpDialog, "exec", lambda self: shown.append(self) or 0)
    window.actions_.shortcuts.trigger()
    assert shown and "Alt-click a port" in shown[0].findChild(help_dialog.QLabel).text()
