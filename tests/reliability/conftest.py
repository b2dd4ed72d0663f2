"""Shared fixtures for the reliability tests: a main window with temporary
settings whose dialogs are recorded instead of shown."""
from __future__ import annotations

import pytest

SAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from studio.ui.shell.main_window import MainWindow
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: errors.append(a[1:3]))
    w = MainWindow(dark=False)
    w.errors = errors
    monkeypatch.setattr(w, "ask_save_changes", lambda: QMessageBox.StandardButton.Discard)
    qtbot.addWidget(w)
    return w
