"""The main window's document life cycle: samples round-trip, bad files,
unsaved changes, settings persistence, locking, theme screenshots."""
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from studio.graph import project as projects
from studio.ui import testkit
from studio.ui.document import settings

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


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_survives_open_save_reopen(window, tmp_path, sample):
    assert window.open_path(sample)
    original = window.project.to_dict()
    assert original == projects.load(sample).to_dict()
    target = tmp_path / "copy.studio.json"
    window.ask_save_path = lambda: str(target)
    assert window.save_as() and not window.isWindowModified()
    assert window.new_project() and len(window.project.model) == 0
    assert window.open_path(target)
    assert window.project.to_dict() == original
    assert window.errors == []


def test_sample_opens_as_an_untitled_copy(window):
    with_signal = []
    window.project_replaced.connect(lambda: with_signal.append(True))
    assert window.open_path(SAMPLES[0], as_copy=True)
    assert with_signal and window.project.path is None and window.isWindowModified()
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
    assert again.menu_recent.actions()[0].text() == SAMPLES[0].name
    assert settings().fileName().startswith(str(tmp_path))


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
