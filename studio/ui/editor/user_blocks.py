"""The app's side of the user block library (studio.project.block_library): where it
lives, and one signal that tells every palette to re-read it after a change."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal

from studio.project.block_library import BlockLibrary, folder

BLOCK_MIME = "application/x-studio-library-block"  # a drag from "My blocks": the file's path


class _Notifier(QObject):
    changed = Signal()  # renamed or deleted: re-read the library
    saved = Signal(str)  # a block was saved to this path: re-read and show it


_notifier: _Notifier | None = None


def library() -> BlockLibrary:
    """The library in the user's data folder (or $STUDIO_BLOCKS_DIR), read afresh each time."""
    data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return BlockLibrary(folder(Path(data or Path.home() / ".studio") / "blocks"))


def notifier() -> _Notifier:
    """Emits `saved` after a block is saved, `changed` after one is renamed or deleted (in any window)."""
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier
