"""The window most run-view tests start from: the default size, with a copy of the
Shapes CNN sample open (runs are written beside it, in the test's folder)."""
import pytest

from tests.ui import run_testkit


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    with run_testkit.shapes_window(qtbot, tmp_path, monkeypatch) as w:
        yield w
