"""Feeds the inspector's Activations section (studio.ui.editor.inspector_activations)
from the Activations tab's snapshot: the same probe examples, the same drawing
(activation_view.render), the same on-demand refresh. A snapshot taken for a
project since replaced is stale: the section then asks for a refresh rather than
show another network's outputs under a node id they happen to share. For an
attention layer the section's chooser picks its attention map or its output; the
section says which node it shows, so a run works out that node's maps each epoch."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from studio.ui.editor.inspector_activations import INPUT_PX, Look
from studio.ui.run.activation_view import ActivationView, render
from studio.ui.run.attention_view import HOW_TO_READ

NOTHING_YET = "Train, or press Refresh, to see what this layer outputs for a few validation examples."


class InspectorFeed(QObject):
    changed = Signal()

    def __init__(self, view: ActivationView, parent=None):
        super().__init__(parent)
        self.view, self.stale = view, False
        self._asker = None  # the section whose node the wish holds
        view.snapshot_changed.connect(self._arrived)

    @Slot(object)
    def _arrived(self, _snapshot) -> None:
        self.stale = False
        self.changed.emit()

    @Slot()
    def project_replaced(self) -> None:
        self.stale = True
        self.changed.emit()

    def _snapshot(self) -> dict:
        return {} if self.stale else self.view.snapshot

    def examples(self) -> int:
        snap = self._snapshot()
        return next(iter(snap.values())).shape[0] if snap else 0

    def is_attention(self, node: str) -> bool:
        return bool(self._snapshot()) and node in self.view.attention

    def want_attention(self, asker: int, node: str | None) -> None:
        """The inspector shows `node`'s attention map (None: no map)."""
        self._asker = asker
        self.view.wish.ask("inspector", [node] if node and self.view.may_attend(node) else [])

    def forget(self, asker: int) -> None:
        if self._asker == asker:  # not a newer section's wish
            self.want_attention(asker, None)

    def look(self, node: str, i: int, max_w: int, max_h: int, chooser=None) -> Look | str:
        snap = self._snapshot()
        if not snap:
            return NOTHING_YET
        if node not in snap:
            return (f"No output of {node} in the snapshot taken {self.view.when}: it was added since "
                    "(press Refresh), or it has no module of its own (Input, Output, merges).")
        attention = self.view.attention_look(node, i, max_w, max_h, chooser) if chooser is not None else None
        if isinstance(attention, str):
            return attention
        picture, caption = attention or render(snap[node], i, max_w, max_h)
        how = f". {HOW_TO_READ}" if attention else ""
        return Look(picture, f"{caption}, {self.view.when}{how}", self.view.input_pixmap(i, INPUT_PX))

    def refresh(self) -> str | None:
        if self.view.refresh_now():
            return None
        return self.view.caption.text()


def install(window, panel) -> InspectorFeed | None:
    inspector = getattr(window, "inspector", None)
    if inspector is None or not hasattr(inspector, "set_activation_feed"):
        return None
    feed = InspectorFeed(panel.activations, window)
    if hasattr(window, "project_replaced"):
        window.project_replaced.connect(feed.project_replaced)
    inspector.set_activation_feed(feed)
    return feed
