"""Autosave and restore in-process: when a copy is written, where, and what a
restore gives back. The kill -9 round trip is test_recovery_subprocess.py."""
from __future__ import annotations

import errno
import json
import shutil

import pytest

from studio.project import file as projects
from studio.ui.shell import recovery
from studio.ui.editor.canvas.commands import AddNode

from .conftest import SAMPLES


@pytest.fixture
def opened(window, tmp_path):
    path = tmp_path / "mine.studio.json"
    shutil.copy(SAMPLES / "spiral_mlp.studio.json", path)
    assert window.open_path(path, confirm=False)
    return window, path


def _saver(window, folder, **kw):
    return recovery.install(window, folder=folder, interval_ms=60_000, offer=False, **kw)


def _edit(window, type_="Dropout"):
    window.undo_stack.push(AddNode(window.project.model, type_, nid=f"{type_.lower()}9"))


def test_only_dirty_documents_are_autosaved_and_never_over_the_users_file(opened, tmp_path):
    w, path = opened
    original = path.read_bytes()
    saver = _saver(w, tmp_path / "rec")
    assert not saver.autosave() and not saver.entry.data.exists()   # clean: nothing to save
    _edit(w)
    assert saver.autosave()
    assert not saver.autosave()                                     # unchanged since: no rewrite
    assert path.read_bytes() == original
    doc = projects.load(saver.entry.data)
    assert "dropout9" in doc.model.nodes()
    meta = json.loads(saver.entry.meta.read_text())
    assert meta["original"] == str(path) and meta["format"] == recovery.FORMAT


def test_saving_undoing_to_clean_and_clean_exit_remove_the_copy(opened, tmp_path):
    w, path = opened
    saver = _saver(w, tmp_path / "rec")
    _edit(w)
    assert saver.autosave()
    w.undo_stack.undo()                       # back at the saved state: nothing to recover
    assert not saver.entry.data.exists()
    w.undo_stack.redo()
    assert saver.autosave()
    assert w.save()
    assert not saver.entry.data.exists() and not saver.entry.meta.exists()
    _edit(w, "ReLU")
    assert saver.autosave()
    saver.finish()                            # what aboutToQuit calls after a clean exit
    assert list((tmp_path / "rec").glob("*.json")) == []


def test_the_timer_and_a_finished_run_trigger_autosaves(opened, tmp_path, qtbot):
    w, _ = opened
    saver = recovery.install(w, folder=tmp_path / "rec", interval_ms=50, offer=False)
    _edit(w)
    qtbot.waitUntil(saver.entry.data.exists, timeout=5000)
    saver.timer.stop()
    _edit(w, "ReLU")
    panel = getattr(w, "run_panel", None)
    assert panel is not None, "the run panel exposes run_finished; autosave listens to it"
    panel.run_finished.emit(None)
    assert "relu9" in projects.load(saver.entry.data).model.nodes()


def _orphan(w, tmp_path, folder):
    """Leave an entry as a killed session would: written, lock released without cleanup."""
    saver = _saver(w, folder)
    _edit(w)
    assert saver.autosave()
    # The dead session does nothing more: no timer, no reaction to the document.
    saver.timer.stop()
    w.document.changed.disconnect(saver._on_document_changed)
    w.run_panel.run_finished.disconnect(saver._on_run_finished)
    saver._lock.unlock()  # unlock() deletes the lock file, as a dead process's lock is stale
    saver._lock = None
    w.undo_stack.clear()
    return saver.entry


def test_restore_opens_dirty_with_the_original_path(opened, tmp_path, monkeypatch):
    w, path = opened
    folder = tmp_path / "rec"
    dead = _orphan(w, tmp_path, folder)
    w.open_path(path, confirm=False)
    assert "dropout9" not in w.project.model.nodes() and not w.document.dirty
    monkeypatch.setenv(recovery.AUTO_ENV, "restore")
    saver = _saver(w, folder)
    assert saver.offer_restore()
    assert "dropout9" in w.project.model.nodes()
    assert w.document.dirty and w.document.path == path
    assert not dead.data.exists()                       # taken over by this session...
    assert saver.entry.data.exists()                    # ...which already holds a copy
    assert w.save() and "dropout9" in projects.load(path).model.nodes()


def test_discard_deletes_and_later_keeps(opened, tmp_path, monkeypatch):
    w, _ = opened
    folder = tmp_path / "rec"
    dead = _orphan(w, tmp_path, folder)
    monkeypatch.setenv(recovery.AUTO_ENV, "later")
    assert not _saver(w, folder).offer_restore()
    assert dead.data.exists()
    asked = []
    monkeypatch.delenv(recovery.AUTO_ENV)
    monkeypatch.setattr(recovery, "ask_restore", lambda win, e: asked.append(e.key) or "discard")
    assert not _saver(w, folder).offer_restore()
    assert asked == [dead.key] and not dead.data.exists() and not dead.meta.exists()


def test_a_live_sessions_copy_is_not_offered(opened, tmp_path, monkeypatch):
    w, _ = opened
    folder = tmp_path / "rec"
    live = _saver(w, folder)
    _edit(w)
    assert live.autosave()                   # holds its lock, like another open window
    asked = []
    monkeypatch.setattr(recovery, "ask_restore", lambda win, e: asked.append(e) or "restore")
    assert not _saver(w, folder).offer_restore()
    assert asked == [] and live.entry.data.exists()


def test_a_corrupt_copy_is_reported_and_kept(opened, tmp_path, monkeypatch):
    w, _ = opened
    folder = tmp_path / "rec"
    dead = _orphan(w, tmp_path, folder)
    dead.data.write_text('{"format": "studio.project", "version": 1, "graph": {"nodes": [{"id": 5')
    monkeypatch.setenv(recovery.AUTO_ENV, "restore")
    assert not _saver(w, folder).offer_restore()
    assert w.errors and "could not be read" in w.errors[0][1]
    assert dead.data.exists()


def test_a_failing_autosave_is_reported_never_raised(opened, tmp_path, monkeypatch):
    w, _ = opened
    saver = _saver(w, tmp_path / "rec")
    statuses = []
    monkeypatch.setattr(w, "show_status", lambda text, ms=0: statuses.append(text))

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")
    _edit(w)
    with monkeypatch.context() as disk:
        disk.setattr(projects.os, "fsync", full)
        assert not saver.autosave() and not saver.autosave()
    assert statuses == ["Autosave failed: Cannot save " + str(saver.entry.data) + ": No space left on device"]
    assert w.document.dirty
    assert list((tmp_path / "rec").glob(".*.tmp")) == []   # no temp file left behind
    assert saver.autosave()                                # and it recovers once there is room


def test_a_quit_without_the_save_question_keeps_the_work(opened, tmp_path, qtbot):
    """Ctrl+C in the terminal quits with the window still open and no question asked."""
    w, _ = opened
    w.show()
    qtbot.waitExposed(w)
    saver = _saver(w, tmp_path / "rec")
    _edit(w)
    saver.finish()
    assert saver.entry.data.exists()
    orphans = recovery.find_orphans(tmp_path / "rec")   # the next launch will offer it
    assert [e.key for e in orphans] == [saver.entry.key]
    for e in orphans:
        e.release()
