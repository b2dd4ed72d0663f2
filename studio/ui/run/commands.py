"""Undoable edits of the project's dataset and training settings. Each command
only calls Project methods; the form follows the project's events, so undo and
redo need no form code (as the canvas's commands need no scene code)."""
from __future__ import annotations

import dataclasses

from PySide6.QtGui import QUndoCommand

from studio.ui.editor.canvas.commands import Compound
from studio.ui.run import datafit

LABELS = {"lr": "learning rate", "batch_size": "batch size", "weight_decay": "weight decay",
          "augment_crop": "crop padding", "augment_flip": "flips", "val_split": "validation split"}


def label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


class SetSetting(QUndoCommand):
    """Set project.<section>.<key>; undo restores the old value. Consecutive edits
    of one field (spin-box arrows) merge into one step."""
    ID = 0x5e77

    def __init__(self, project, section: str, key: str, old, new):
        super().__init__(f"Change {label(key)}")
        self.project, self.section, self.key, self.old, self.new = project, section, key, old, new

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetSetting) or (other.project, other.section, other.key) != \
                (self.project, self.section, self.key):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.project.set_setting(self.section, self.key, self.new)

    def undo(self) -> None:
        self.project.set_setting(self.section, self.key, self.old)


def setting_edit(project, section: str, key: str, value, known: datafit.KnownShapes | None = None) -> QUndoCommand:
    """The undo step for a user's edit of one (already checked) setting. Choosing a
    dataset also fits the Input node to it, in the same step."""
    cmd = SetSetting(project, section, key, project.setting(section, key), value)
    if (section, key) != ("data", "dataset"):
        return cmd
    data = dataclasses.replace(project.data, dataset=value)
    follow = datafit.input_command(project.model, datafit.known_shape(data, known))
    if follow is None:
        return cmd
    both = Compound(cmd.text())
    both.add(cmd)
    both.add(follow)
    return both
