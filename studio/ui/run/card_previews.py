"""View ▸ Show activations on cards: every node card on the canvas gets a
thumbnail of its output for the first probe example (feature-map grid, T×F heat
map or bar strip), redrawn only when the Activations tab receives a snapshot
(epoch ends, Refresh), never per batch."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QImage

from studio.graph.blocks import qualified
from studio.train import activations
from studio.ui.run.activation_view import colourize
from studio.ui.run.samples import to_qimage
from studio.ui.shell.document import settings

SETTING = "canvas/activation_previews"
BAR_ASPECT = 10  # a bar strip is 10:1, so 4 values or 2048 make the same slim strip on a card
CARD_PX = 160     # a short strip is widened to about the card's width (crisp cells)


def thumbnail(activation) -> QImage:
    """One example's output as an RGB image for a card."""
    view = activations.summarize(activation)
    rgb = colourize(view.image)
    if view.kind == "bars":
        rgb = np.repeat(rgb, max(1, -(-CARD_PX // rgb.shape[1])), axis=1)
        rgb = np.repeat(rgb, max(1, rgb.shape[1] // BAR_ASPECT), axis=0)
    return to_qimage(rgb)


class CardPreviews(QObject):
    """Owns the View action and keeps the canvas cards' thumbnails in step."""

    def __init__(self, window, view):
        super().__init__(window)
        self.window, self.view = window, view
        self.action = QAction("Show &activations on cards", window)
        self.action.setCheckable(True)
        self.action.setStatusTip("Draw a thumbnail of each layer's output for the first probe "
                                 "example under its card (after each epoch, or Refresh)")
        self.action.setChecked(settings().value(SETTING, False, type=bool))
        self.action.toggled.connect(self._toggled)
        menu = getattr(window, "menu_view", None)
        if menu is not None:
            menu.addAction(self.action)
        self.stale = False  # the tab's snapshot belongs to a project since replaced
        view.snapshot_changed.connect(self._arrived)
        if hasattr(window, "project_replaced"):
            window.project_replaced.connect(self._replaced)
        canvas = getattr(window, "canvas", None)
        if hasattr(canvas, "level_changed"):  # the cards of the level shown are new ones
            canvas.level_changed.connect(self._level_changed)
        if self.action.isChecked() and view.snapshot:
            self.show(view.snapshot)

    def _scene(self):
        canvas = getattr(self.window, "canvas", None)
        return canvas.scene() if canvas is not None else None

    def _key(self, nid: str) -> str:
        """A card's layer as probes name it: its module path (inside a block, block.layer)."""
        model = self.window.canvas.model()
        return qualified(model, nid) if model is not None and nid in model.g else nid

    @Slot()
    def _level_changed(self) -> None:
        if self.action.isChecked() and not self.stale:
            self.show(self.view.snapshot)

    @Slot(bool)
    def _toggled(self, on: bool) -> None:
        settings().setValue(SETTING, on)
        if on and not self.stale:
            self.show(self.view.snapshot)
        else:
            self.clear()

    @Slot(object)
    def _arrived(self, snapshot) -> None:
        self.stale = False
        self.show(snapshot)

    @Slot()
    def _replaced(self) -> None:
        self.stale = True
        self.clear()

    @Slot(object)
    def show(self, snapshot) -> None:
        if not self.action.isChecked():
            return
        scene = self._scene()
        if scene is None:
            return
        for nid, item in scene.nodes.items():
            out = snapshot.get(self._key(nid)) if snapshot else None
            try:
                image = thumbnail(out[0]) if out is not None and out.shape[0] > 0 else None
            except Exception:  # noqa: BLE001 - an odd output shape must not break the canvas
                image = None
            item.set_preview(image)

    @Slot()
    def clear(self) -> None:
        scene = self._scene()
        if scene is not None:
            for item in scene.nodes.values():
                item.set_preview(None)


def install(window, panel) -> CardPreviews:
    previews = CardPreviews(window, panel.activations)
    panel.card_previews = previews
    return previews
