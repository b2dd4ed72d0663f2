"""Which level of a network the canvas shows: the top graph or a block's inside.

The level is a path of block ids from the project's graph (the root). Going in
fits the block's inside in the view; going back restores the zoom and scroll the
outer level had. Every edit is a command on the one undo stack, whatever level it
was made at; when an undo or redo changes a graph that is not the one shown, the
canvas moves to the level where it happened, and when the shown block stops
existing (an undo removed it) the canvas goes up to the nearest level that does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QPointF, QTimer, Signal, Slot
from PySide6.QtGui import QTransform, QUndoStack

from studio.graph.events import BodyChanged, ShapesChanged
from studio.graph.layers import spec
from studio.graph.model import BODY_ONLY, MAX_DEPTH, TOP_ONLY, GraphModel

if TYPE_CHECKING:
    from studio.ui.editor.canvas.view import CanvasView

ROOT_LABEL = "Network"
DEFAULT_NAME = "Block"


def crumb_label(outer: GraphModel, nid: str) -> str:
    """A block's name in the breadcrumb: its name, or its id when the name is the
    default or shared with another block beside it (resnet's many BasicBlocks)."""
    name = str(outer.params(nid).get("name", "")).strip()
    if not name or name == DEFAULT_NAME:
        return nid
    same = sum(1 for n in outer.of_type("Block") if outer.params(n).get("name") == name)
    return name if same == 1 else nid


def _change_path(ev) -> tuple[tuple[str, ...] | None, str | None]:
    """The block path of the graph an event happened in (None for shape news), and
    the node it touched, if one."""
    path = []
    while isinstance(ev, BodyChanged):
        path.append(ev.id)
        ev = ev.event
    if isinstance(ev, ShapesChanged):
        return None, None
    return tuple(path), getattr(ev, "id", None)


def _common(paths) -> tuple[str, ...]:
    first = paths[0]
    n = len(first)
    for p in paths[1:]:
        n = min(n, len(p))
        for i in range(n):
            if p[i] != first[i]:
                n = i
                break
    return first[:n]


class BlockNavigator(QObject):
    changed = Signal()  # the shown level is another graph now

    def __init__(self, view: "CanvasView"):
        super().__init__(view)
        self.view = view
        self.root: GraphModel | None = None
        self.path: list[str] = []
        self.stack: QUndoStack | None = None
        self._saved: dict[tuple[str, ...], tuple[QTransform, QPointF]] = {}
        self._changes: list[tuple[str, ...]] = []  # where edits happened since the stack last moved
        self._touched: list[tuple[tuple[str, ...], str | None]] = []  # with the nodes they touched
        self._index = 0
        self._redo_cmd = None
        self._check = QTimer(self, singleShot=True, interval=0)  # edits made outside the stack
        self._check.timeout.connect(self.settle)

    # -- the document -----------------------------------------------------------------
    def reset(self, root: GraphModel, stack: QUndoStack) -> None:
        if self.root is not None:
            self.root.unsubscribe(self._on_event)
        if stack is not self.stack:
            if self.stack is not None:
                self.stack.indexChanged.disconnect(self._on_index)
            self.stack = stack
            stack.indexChanged.connect(self._on_index)
        self.root = root
        self.path = []
        self._saved.clear()
        self._changes, self._touched = [], []
        root.subscribe(self._on_event)
        self._remember_stack()

    def shown(self) -> GraphModel | None:
        return self.resolve(self.path)[0]

    def resolve(self, path) -> tuple[GraphModel | None, list[str]]:
        """The graph at `path`, or at the longest part of it that still exists."""
        m, ok = self.root, []
        if m is None:
            return None, ok
        for nid in path:
            if nid not in m.g or m.type_of(nid) != "Block":
                break
            m = m.body(nid)
            ok.append(nid)
        return m, ok

    def trail(self) -> list[str]:
        """Breadcrumb labels, the top level first."""
        out, m = [ROOT_LABEL], self.root
        for nid in self.resolve(self.path)[1]:  # an undo may have removed the shown block just now
            out.append(crumb_label(m, nid))
            m = m.body(nid)
        return out

    # -- moving ----------------------------------------------------------------------
    def enter(self, nid: str) -> bool:
        m = self.shown()
        if m is None or nid not in m.g or m.type_of(nid) != "Block":
            return False
        self._go(self.path + [nid])
        return True

    def go_to(self, depth: int) -> None:
        """Up to level `depth` (0: the top), the block just left selected."""
        if 0 <= depth < len(self.path):
            left = self.path[depth]
            self._go(self.path[:depth])
            self.view.select_nodes([left])

    def _go(self, path: list[str]) -> None:
        self._save_view()
        self.path = list(path)
        self._show()

    def _save_view(self) -> None:
        v = self.view
        self._saved[tuple(self.path)] = (v.transform(), v.mapToScene(v.viewport().rect().center()))

    def _show(self) -> None:
        v = self.view
        v.show_graph(self.shown())
        saved = self._saved.get(tuple(self.path))
        if saved is None:
            v.fit()
        else:
            v.setTransform(saved[0])
            v.centerOn(saved[1])
        self.changed.emit()

    # -- following edits ---------------------------------------------------------------
    def _on_event(self, ev) -> None:
        where, nid = _change_path(ev)
        if where is not None:
            self._changes.append(where)
            self._touched.append((where, nid))
            if len(self._changes) > 10000:  # edits outside the stack (a script): keep the latest
                del self._changes[:5000]
                del self._touched[:5000]
            self._check.start()

    def _remember_stack(self) -> None:
        s = self.stack
        self._index = s.index()
        self._redo_cmd = s.command(self._index) if self._index < s.count() else None

    @Slot(int)
    def _on_index(self, index: int) -> None:
        s = self.stack
        if not (shiboken6.isValid(s) and shiboken6.isValid(self.view)):  # the window is going
            return
        # A redo runs the command that was next; a push puts a new one there.
        moved = index < self._index or (index > self._index and s.command(self._index) is self._redo_cmd)
        changes, self._changes = self._changes, []
        touched, self._touched = self._touched, []
        self._remember_stack()
        level = list(self.path)
        self.settle(_common(changes) if moved and changes else None)
        if self.path != level:  # moved to where the undo happened: show what it touched
            here = tuple(self.path)
            self.view.reveal([n for where, n in touched if where == here and n is not None])

    @Slot()
    def settle(self, target: tuple[str, ...] | None = None) -> None:
        """Show the level `target` (or as much of it as exists); without one, stay,
        unless the shown block is gone or replaced: then the nearest level that exists."""
        if self.root is None:
            return
        if target is not None and list(target) != self.path:
            _, ok = self.resolve(target)
            if ok != self.path:
                self._go(ok)
            return
        model, ok = self.resolve(self.path)
        if ok != self.path or model is not self.view.model():
            self.path = ok
            self._show()


class BlockNavMixin:
    """CanvasView's block navigation API (mixed in; `self.nav` is its BlockNavigator)."""

    def open_block(self, nid: str) -> bool:
        """Show block `nid`'s inside, fitted in the view."""
        self.cancel_gesture()
        return self.nav.enter(nid)

    def go_up(self) -> bool:
        """Back to the graph around the shown block (its zoom and scroll as they were)."""
        if not self.nav.path:
            return False
        self.cancel_gesture()
        self.nav.go_to(len(self.nav.path) - 1)
        return True

    def go_to_level(self, depth: int) -> None:
        self.cancel_gesture()
        self.nav.go_to(depth)

    def depth(self) -> int:
        return len(self.nav.path)

    def placeable(self, layer_type: str) -> bool:
        """Whether the level shown may hold `layer_type` (else say why in the status bar)."""
        body = self._model.is_body
        if body and layer_type in TOP_ONLY:
            self.status_message.emit(f"{spec(layer_type).title} belongs to the whole network, not inside "
                                     "a block: data enters at Block input and leaves at Block output")
            return False
        if not body and layer_type in BODY_ONLY:
            self.status_message.emit(f"{spec(layer_type).title} exists only inside a block")
            return False
        if layer_type == "Block" and self._model.depth() + 2 > MAX_DEPTH:  # as GraphModel counts it
            self.status_message.emit(f"Blocks nest at most {MAX_DEPTH} deep; this one is too deep for another")
            return False
        return True

    def open_selected_block(self) -> bool:
        ids = self.selected_nodes()
        return len(ids) == 1 and self._model.type_of(ids[0]) == "Block" and self.open_block(ids[0])

    def backspace(self) -> None:
        """Delete the selection; with nothing selected inside a block, go up."""
        if not self.selected_nodes() and not self._scene.selectedItems() and self.nav.path:
            self.go_up()
        else:
            self.delete_selected()
