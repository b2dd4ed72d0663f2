"""Undoable edits of the project's search space. The commands call the Project's
methods (set_dimension, set_sweep_setting), which change `project.sweep` and
announce it, so markers, the Sweep tab and the saved file all follow (undo too)."""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from studio.project.events import SweepChanged
from studio.project.search_space import Dimension, SearchSpace


class SweepDoc(QObject):
    """The current project's search space, with a `changed` signal (GUI thread only).
    Edits go through the Project's methods; its SweepChanged events drive `changed`."""
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project = None
        self.undo_stack = None

    def set_project(self, project) -> None:
        if self.project is not None:
            self.project.unsubscribe(self._on_project_event)
        self.project = project
        if project is not None:
            project.subscribe(self._on_project_event)
        self.changed.emit()

    def _on_project_event(self, ev) -> None:
        if isinstance(ev, SweepChanged):
            self.changed.emit()

    @property
    def space(self) -> SearchSpace | None:
        return self.project.sweep if self.project is not None else None

    def dimension(self, key: str) -> Dimension | None:
        return self.space.find(key) if self.space is not None else None

    # -- edits, through the undo stack ----------------------------------------------------
    def set_dimension(self, key: str, dim: Dimension | None) -> None:
        old = self.dimension(key)
        if old == dim:
            return
        self._push(SetDimension(self, key, old, dim))

    def set_setting(self, key: str, value) -> None:
        space = self.space or SearchSpace()
        old = getattr(space, key)
        if old == value:
            return
        self._push(SetSweepSetting(self, key, old, value))

    def _push(self, cmd: QUndoCommand) -> None:
        if self.undo_stack is None:
            cmd.redo()
        else:
            self.undo_stack.push(cmd)


class SetDimension(QUndoCommand):
    def __init__(self, doc: SweepDoc, key: str, old: Dimension | None, new: Dimension | None):
        verb = "Search" if new is not None and old is None else "Stop searching" if new is None else "Change search of"
        super().__init__(f"{verb} {key}")
        self.doc, self.key = doc, key
        self.old = dataclasses.replace(old) if old else None
        self.new = dataclasses.replace(new) if new else None

    def redo(self) -> None:
        self.doc.project.set_dimension(self.key, dataclasses.replace(self.new) if self.new else None)

    def undo(self) -> None:
        self.doc.project.set_dimension(self.key, dataclasses.replace(self.old) if self.old else None)


class SetSweepSetting(QUndoCommand):
    ID = 0x5e78

    def __init__(self, doc: SweepDoc, key: str, old, new):
        super().__init__(f"Change sweep {key}")
        self.doc, self.key, self.old, self.new = doc, key, old, new

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetSweepSetting) or other.key != self.key:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc.project.set_sweep_setting(self.key, self.new)

    def undo(self) -> None:
        self.doc.project.set_sweep_setting(self.key, self.old)
