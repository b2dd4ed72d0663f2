"""Disk full and unwritable targets, on save and on export, in the app and the CLI:
a clear message, nothing half-written, and in the app the document stays dirty.

Tests run as root here, where chmod cannot make a folder read-only, so the
permission error is simulated where the temp file is created; the chmod
variant runs when the tests run as a normal user."""
from __future__ import annotations

import errno
import os
import shutil

import pytest

from studio.cli.main import main as cli
from studio import fileio
from studio.project import file as projects
from studio.graph.compile import compile_graph
from studio.train.checkpoint import save_weights
from studio.ui.editor.canvas.commands import AddNode

from .conftest import SAMPLES

MLP = SAMPLES / "spiral_mlp.studio.json"
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _full(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


def _denied(*_a, dir=None, **_k):
    raise PermissionError(errno.EACCES, "Permission denied", dir)


@pytest.fixture
def edited(window, tmp_path):
    path = tmp_path / "mine.studio.json"
    shutil.copy(MLP, path)
    assert window.open_path(path, confirm=False)
    window.undo_stack.push(AddNode(window.project.model, "Dropout", nid="dropout9"))
    assert window.document.dirty
    return window, path


@pytest.mark.parametrize("failure", ["disk full", "read-only folder"])
def test_saving_fails_with_a_dialog_and_the_document_stays_dirty(edited, monkeypatch, failure):
    w, path = edited
    before = path.read_bytes()
    if failure == "disk full":
        monkeypatch.setattr(projects.os, "fsync", _full)
    else:
        monkeypatch.setattr(fileio.tempfile, "mkstemp", _denied)
    assert not w.save()
    (title, text), = w.errors
    assert title == "Cannot save project" and str(path) in text
    assert ("No space left on device" if failure == "disk full" else "Permission denied") in text
    assert w.document.dirty and w.document.path == path
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.skipif(ROOT, reason="root writes into read-only folders")
def test_saving_into_a_really_read_only_folder(edited, tmp_path):
    w, _ = edited
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert not w._save_to(ro / "x.studio.json")
        assert "Permission denied" in w.errors[0][1] and w.document.dirty
    finally:
        ro.chmod(0o700)


@pytest.fixture
def weights(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(path, compile_graph(projects.load(MLP).model).state_dict())
    return path


@pytest.mark.parametrize("failure, code, words", [("disk full", 1, "No space left on device"),
                                                   ("read-only folder", 1, "Permission denied")])
@pytest.mark.parametrize("fmt", ["safetensors", "python"])
def test_cli_export_fails_cleanly(weights, tmp_path, capsys, monkeypatch, failure, code, words, fmt):
    out = tmp_path / "out" / f"model.{fmt}"
    if failure == "disk full":
        monkeypatch.setattr(fileio.os, "fsync", _full)
    else:
        monkeypatch.setattr(fileio.tempfile, "mkstemp", _denied)
    assert cli(["export", str(MLP), "--weights", str(weights), "--format", fmt, "-o", str(out)]) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("studio: error: ") and words in err and "\n" not in err
    assert list(out.parent.iterdir()) == []          # neither the file nor a temp file


def test_app_export_on_a_full_disk_shows_a_dialog(window, qtbot, tmp_path, monkeypatch):
    panel = window.run_panel
    actions = panel.export_actions
    project = projects.load(MLP)
    actions.set_source(project, compile_graph(project.model))
    failures = []
    monkeypatch.setattr(actions, "show_failure", failures.append)
    monkeypatch.setattr(fileio.os, "fsync", _full)
    out = tmp_path / "model.safetensors"
    with qtbot.waitSignal(actions.export_finished, timeout=30000):
        assert actions.export("safetensors", str(out))
    actions.wait()
    assert failures and "No space left on device" in failures[0]
    assert not out.exists()
