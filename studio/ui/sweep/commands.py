"""Undoable edits of the project's search space. The commands call SweepDoc's
methods, which change `project.sweep` and announce it, so markers, the sweep
tab and the saved file all follow (undo included)."""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from studio.project.search_space import Dimension, SearchSpace


class SweepDoc(QObject):
    """The current project's search space, with a `changed` signal (GUI thread only)."""
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project = None
        self.undo_stack = None

    def set_project(self, project) -> None:
        self.project = project
        self.changed.emit()

    @property
    def space(self) -> SearchSpace | None:
        return self.project.sweep if self.project is not None else None

    def dimension(self, key: str) -> Dimension | None:
        return self.space.find(key) if self.space is not None else None

    # -- model methods the commands call -------------------------------------------------
    def put_dimension(self, key: str, dim: Dimension | None) -> None:
        """Add, replace (same key) or, with None, remove a dimension."""
        if self.project.sweep is None:
            self.project.sweep = SearchSpace()
        dims = self.project.sweep.dimensions
        i = next((n for n, d in enumerate(dims) if d.key == key), None)
        if dim is None and i is not None:
            del dims[i]
        elif dim is not None and i is None:
            dims.append(dim)
        elif dim is not None:
            dims[i] = dim
        self.changed.emit()

    def put_setting(self, key: str, value) -> None:
        if self.project.sweep is None:
            self.project.sweep = SearchSpace()
        setattr(self.project.sweep, key, value)
        self.changed.emit()

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
        self.doc.put_dimension(self.key, dataclasses.replace(self.new) if self.new else None)

    def undo(self) -> None:
        self.doc.put_dimension(self.key, dataclasses.replace(self.old) if self.old else None)


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
        self.doc.put_setting(self.key, self.new)

    def undo(self) -> None:
        self.doc.put_setting(self.key, self.old)
