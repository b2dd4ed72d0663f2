"""The open document: the current Project, its file path, whether it has unsaved
changes, and the recent-files list.

Dirty state comes from the undo stack's clean index, so undoing back to the
saved state makes the document clean again. Every edit, graph or settings, is
an undo command; `touch()` marks a document dirty that no edit made so (a
sample opened as an untitled copy).
"""
from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtGui import QUndoStack

from studio.project import file as projects
from studio.project.file import Project

MAX_RECENT = 10


def settings() -> QSettings:
    """App settings; always INI so tests can redirect them with QSettings.setPath."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Studio", "Studio")


def file_stem(path: Path) -> str:
    return path.name.removesuffix(".studio.json").removesuffix(".json")


def display_name(project: Project) -> str:
    if project.name and project.name != "Untitled":
        return project.name
    if project.path is not None:
        return file_stem(project.path)
    return "Untitled"


class Document(QObject):
    changed = Signal()          # title, path or dirty state changed
    replaced = Signal()         # a different project is now open
    recent_changed = Signal()

    def __init__(self, undo_stack: QUndoStack, parent=None) -> None:
        super().__init__(parent)
        self.undo_stack = undo_stack
        self.project = Project()
        self._touched = False
        undo_stack.cleanChanged.connect(self._clean_changed)

    @Slot(bool)
    def _clean_changed(self, _clean: bool) -> None:
        if shiboken6.isValid(self.undo_stack):  # not while the stack is being destroyed
            self.changed.emit()

    # -- state ---------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self.project.path

    @property
    def dirty(self) -> bool:
        return self._touched or not self.undo_stack.isClean()

    def touch(self) -> None:
        if not self._touched:
            self._touched = True
            self.changed.emit()

    def title(self) -> str:
        return display_name(self.project)

    # -- replace / load / save -------------------------------------------------------
    def replace(self, project: Project) -> None:
        self.project = project
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._touched = False
        self.replaced.emit()
        self.changed.emit()

    def new(self) -> None:
        """A blank project trains on Shapes: offline, and it fits the default 3×32×32 Input
        (CIFAR-10 meant a 163 MB download before the first try)."""
        project = Project()
        project.data.dataset = "shapes"
        self.replace(project)

    def open(self, path: str | Path, remember: bool = True) -> None:
        """Load `path`; raises ProjectError and leaves the document untouched on failure."""
        project = projects.load(path)
        self.replace(project)
        if remember:
            self.add_recent(project.path)

    def save(self, path: str | Path | None = None) -> Path:
        """Save (to `path` if given); raises ProjectError and stays dirty on failure."""
        target = Path(path) if path is not None else self.project.path
        if target is None:
            raise ValueError("no file name: use Save As")
        old_path, old_name = self.project.path, self.project.name
        # The name follows the file name unless someone chose one: "Untitled", or the old file's name.
        if old_name in ("", "Untitled") or (old_path is not None and old_name == file_stem(old_path)):
            self.project.name = file_stem(target)
        try:
            projects.save(self.project, target)
        except Exception:
            self.project.path, self.project.name = old_path, old_name
            raise
        self.undo_stack.setClean()
        self._touched = False
        self.add_recent(target)
        self.changed.emit()
        return target

    # -- recent files ------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = settings().value("recent_files", [])
        if isinstance(value, str):  # QSettings returns a bare string for one-item lists
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add_recent(self, path) -> None:
        if path is None:
            return
        p = str(Path(path).resolve())
        items = [p] + [r for r in self.recent_files() if r != p]
        settings().setValue("recent_files", items[:MAX_RECENT])
        self.recent_changed.emit()

    def remove_recent(self, path: str) -> None:
        settings().setValue("recent_files", [r for r in self.recent_files() if r != path])
        self.recent_changed.emit()

    def clear_recent(self) -> None:
        settings().setValue("recent_files", [])
        self.recent_changed.emit()
