"""Autosave and crash recovery.

While the open document has unsaved changes, a copy is written every 30 s and
after each training run to AppDataLocation/recovery/<session>.studio.json, with
<session>.json beside it (original path, name, time). The user's own file is
never touched. Both are written atomically, so a kill mid-write leaves the
previous copy.

Each running app holds <session>.lock (a QLockFile). The next launch offers
only entries whose lock is stale, i.e. whose app died (kill -9, power loss);
the work of another Studio window that is still open is left alone. A clean
document (saved, undone to the saved state, or replaced) and a clean exit
remove the entry.

Tests answer the restore question with STUDIO_RECOVERY_AUTO=restore|discard|later
(or by replacing `ask_restore`) and shorten the interval with STUDIO_AUTOSAVE_MS.
"""
from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.fileio import read_json
from studio.project import file as projects

log = logging.getLogger(__name__)

AUTO_ENV = "STUDIO_RECOVERY_AUTO"
INTERVAL_ENV = "STUDIO_AUTOSAVE_MS"
DEFAULT_INTERVAL_MS = 30_000
FORMAT = "studio.recovery"
DATA_SUFFIX = ".studio.json"


def recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return (Path(base) if base else Path.home() / ".studio") / "recovery"


def _lock(path: Path) -> QLockFile:
    lock = QLockFile(str(path))
    # 0: only a dead owner makes a lock stale. Qt's default (30 s) would let a
    # second window take over the entry of a first one that is still running.
    lock.setStaleLockTime(0)
    return lock


@dataclass
class Entry:
    """One session's autosaved document."""
    folder: Path
    key: str
    original: Path | None = None
    name: str = "Untitled"
    saved_at: float = 0.0
    lock: QLockFile | None = None  # held while this launch decides about a dead session's entry

    @property
    def data(self) -> Path:
        return self.folder / f"{self.key}{DATA_SUFFIX}"

    @property
    def meta(self) -> Path:
        return self.folder / f"{self.key}.json"

    @property
    def lock_path(self) -> Path:
        return self.folder / f"{self.key}.lock"

    def remove(self) -> None:
        for p in (self.data, self.meta):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("cannot remove recovery file %s: %s", p, e)
        self.release()

    def release(self) -> None:
        if self.lock is not None:
            self.lock.unlock()
            self.lock = None


def read_entry(meta: Path) -> Entry | None:
    """The entry described by `meta`, or None if it is not one of ours or unreadable."""
    try:
        doc = read_json(meta, 4 << 20)  # a regular file, bounded, no NaN, bounded nesting
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    key = meta.name[: -len(".json")]
    original = doc.get("original")
    saved_at = doc.get("saved_at")
    return Entry(meta.parent, key,
                 original=Path(original) if isinstance(original, str) and original else None,
                 name=doc.get("name") if isinstance(doc.get("name"), str) else "Untitled",
                 saved_at=float(saved_at) if isinstance(saved_at, (int, float)) else 0.0)


def find_orphans(folder: Path) -> list[Entry]:
    """Entries left by sessions that are no longer running, newest first; each
    returned entry holds its lock until `remove()` or `release()`."""
    if not folder.is_dir():
        return []
    found = []
    for meta in folder.glob("*.json"):
        if meta.name.endswith(DATA_SUFFIX):
            continue
        entry = read_entry(meta)
        if entry is None or not entry.data.exists():
            continue
        lock = _lock(entry.lock_path)
        if not lock.tryLock(0):
            continue  # a live app owns it
        entry.lock = lock
        found.append(entry)
    return sorted(found, key=lambda e: e.saved_at, reverse=True)


def ask_restore(window, entry: Entry) -> str:
    """'restore', 'discard' or 'later'. The env var answers for tests and scripts."""
    preset = os.environ.get(AUTO_ENV, "").strip().lower()
    if preset in ("restore", "discard", "later"):
        return preset
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.saved_at)) if entry.saved_at else "earlier"
    where = f"\n\nIt was last saved to {entry.original}." if entry.original else ""
    box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                      f"Studio closed unexpectedly while “{entry.name}” had unsaved changes "
                      f"(autosaved {when}).{where}", parent=window)
    box.setInformativeText("Restore them? Discard deletes the autosaved copy for good.")
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    later = box.addButton("Decide Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.setEscapeButton(later)  # closing the box must never delete work
    box.exec()
    clicked = box.clickedButton()
    return "restore" if clicked is restore else "discard" if clicked is discard else "later"


class Autosaver(QObject):
    """Autosaves `window.document` for this session; offers a crashed session's work."""

    def __init__(self, window, folder: Path | None = None, interval_ms: int | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.folder = Path(folder) if folder is not None else recovery_dir()
        self.entry = Entry(self.folder, f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}")
        self.restore_checked = False  # the startup question has been dealt with
        self.last_error: str | None = None
        self._written: str | None = None  # the text the entry holds now
        self._lock: QLockFile | None = None
        if interval_ms is None:
            interval_ms = _env_int(INTERVAL_ENV, DEFAULT_INTERVAL_MS)
        self.timer = QTimer(self)
        self.timer.setInterval(max(50, interval_ms))
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        self.document.changed.connect(self._on_document_changed)
        panel = getattr(window, "run_panel", None)
        if panel is not None and hasattr(panel, "run_finished"):
            panel.run_finished.connect(self._on_run_finished)

    # -- autosave ----------------------------------------------------------------------
    @Slot()
    def autosave(self) -> bool:
        """Write the document if it is dirty and changed since the last copy. Never raises:
        a failing autosave (disk full) is logged and shown in the status bar, and retried."""
        if not self.document.dirty:
            self.discard()
            return False
        try:
            text = projects.dumps(self.document.project)
            if text == self._written and self.entry.data.exists():
                return False
            self._write(text)
        except Exception as e:  # noqa: BLE001 - autosave must never take the app down
            message = str(e) or type(e).__name__
            if message != self.last_error:
                log.warning("autosave failed: %s", message)
                show = getattr(self.window, "show_status", None)
                if callable(show):
                    show(f"Autosave failed: {message}", 10000)
            self.last_error = message
            return False
        self.last_error = None
        return True

    def _write(self, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._lock is None:
            lock = _lock(self.entry.lock_path)
            if not lock.tryLock(0):
                raise OSError(f"cannot lock {self.entry.lock_path}")
            self._lock = lock
        project = self.document.project
        meta = {"format": FORMAT, "version": 1, "name": projects_name(project),
                "original": str(project.path) if project.path is not None else None,
                "saved_at": time.time(), "pid": os.getpid()}
        # Data first: an entry is only offered when its meta file exists too.
        projects.write_atomic(self.entry.data, text.encode("utf-8"))
        projects.write_atomic(self.entry.meta, json.dumps(meta, indent=1).encode("utf-8"))
        self._written = text

    def discard(self) -> None:
        """Remove this session's copy (the document is clean: nothing to recover)."""
        if self._written is not None or self.entry.data.exists():
            self.entry.remove()
        self._written = None

    @Slot()
    def finish(self) -> None:
        """The app is quitting. After the window closed, the user saved or chose Discard,
        so nothing is kept. A quit that skipped that question (Ctrl+C in the terminal
        while the window is open) keeps the unsaved work for the next launch."""
        self.timer.stop()
        if self.document.dirty and self.window.isVisible():
            self.autosave()
        else:
            self.discard()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    @Slot()
    def _on_document_changed(self) -> None:
        if not self.document.dirty:
            self.discard()

    @Slot(object)
    def _on_run_finished(self, _outcome) -> None:
        self.autosave()

    # -- restore --------------------------------------------------------------------------
    @Slot()
    def offer_restore(self) -> bool:
        """Ask about each dead session's work, newest first. Restoring one stops
        there; the others stay for the next launch. True if something was restored."""
        entries: list[Entry] = []
        restored = False
        try:
            entries = find_orphans(self.folder)
            for entry in entries:
                answer = ask_restore(self.window, entry)
                if answer == "discard":
                    entry.remove()
                elif answer == "restore" and self.restore(entry):
                    restored = True
                    break
        except Exception:  # noqa: BLE001 - a broken recovery folder must not stop the app
            log.exception("offering recovered work failed")
        finally:
            for entry in entries:
                entry.release()
            self.restore_checked = True
        return restored

    def restore(self, entry: Entry) -> bool:
        """Open `entry` as the current document: dirty, with its original path."""
        try:
            project = projects.load(entry.data)
        except projects.ProjectError as e:
            _show_error(self.window, "Cannot restore unsaved work",
                        f"The autosaved copy could not be read and was kept at {entry.data}.\n\n{e}")
            return False
        if self.document.dirty:
            confirm = getattr(self.window, "confirm_discard", None)
            if callable(confirm) and not confirm():
                return False
        project.path = entry.original
        self.document.replace(project)
        self.document.touch()  # unsaved until the user saves it, to the original path
        if self.autosave():  # ours now; only then may the dead session's copy go
            entry.remove()
        else:
            entry.release()
        show = getattr(self.window, "show_status", None)
        if callable(show):
            show(f"Restored unsaved work on {entry.name}", 10000)
        return True


def projects_name(project) -> str:
    if project.name and project.name != "Untitled":
        return project.name
    return project.path.name if project.path is not None else "Untitled"


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _show_error(window, title: str, text: str) -> None:
    show = getattr(window, "show_error", None)
    if callable(show):
        show(title, text)
    else:
        QMessageBox.critical(window, title, text)


def install(window, folder: Path | None = None, interval_ms: int | None = None,
            offer: bool = True) -> Autosaver:
    """Autosave `window`'s document; offer a crashed session's work once the event loop runs."""
    saver = Autosaver(window, folder, interval_ms)
    window.autosaver = saver
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(saver.finish)
    if offer:
        QTimer.singleShot(0, saver.offer_restore)
    else:
        saver.restore_checked = True
    return saver
