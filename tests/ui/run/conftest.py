"""The window most run-view tests start from: the default size, with a copy of the
Shapes CNN sample open (runs are written beside it, in the test's folder)."""
import pytest

from tests.ui import run_testkit, testkit


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch, size=(1400, 900))
    assert w.open_path(run_testkit.shapes_project_file(tmp_path / "proj"), confirm=False)
    yield w
    w.run_panel.shutdown(10000)
    w.undo_stack.clear()
