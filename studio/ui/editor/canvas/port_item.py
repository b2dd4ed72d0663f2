"""A node's input or output port: a small circle, or a pill for ports that
accept several wires (Add, Concat)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

if TYPE_CHECKING:
    from studio.ui.editor.canvas.node_item import NodeItem

_CROSS = Qt.CursorShape.CrossCursor
_AA = QPainter.RenderHint.Antialiasing
RADIUS = 5.0
HIT = 9.0  # generous hit area: ports are small targets


class PortItem(QGraphicsItem):
    def __init__(self, node: "NodeItem", name: str, direction: str, multi: bool, label: str = ""):
        super().__init__(node)
        self.node, self.name, self.direction, self.multi = node, name, direction, multi
        self.label = label
        self.connected = False
        self.highlight = False  # a compatible target while a wire is dragged
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(_CROSS)
        self.setZValue(1)

    @property
    def node_id(self) -> str:
        return self.node.nid

    def boundingRect(self) -> QRectF:
        return QRectF(-HIT, -HIT, 2 * HIT, 2 * HIT)

    def set_highlight(self, on: bool) -> None:
        if on != self.highlight:
            self.highlight = on
            self.update()

    def set_connected(self, on: bool) -> None:
        if on != self.connected:
            self.connected = on
            self.update()

    def hoverEnterEvent(self, ev) -> None:
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, ev) -> None:
        self.hovered = False
        self.update()

    def paint(self, p: QPainter, option, widget=None) -> None:
        t = self.node.theme
        cat = t.category(self.node.spec.category)
        if option.levelOfDetailFromTransform(p.worldTransform()) < 0.45:
            return  # the plain card at low zoom has no ports to aim at
        big = self.highlight or self.hovered
        r = RADIUS + (1.5 if big else 0)
        ring = t.color("accent") if big else cat
        p.setPen(QPen(ring, 1.6))
        fill = ring if (self.connected or big) else t.color("card")
        p.setBrush(QBrush(fill))
        if self.multi:  # a vertical pill says "several wires welcome"
            p.drawRoundedRect(QRectF(-r * 0.8, -r * 1.7, r * 1.6, r * 3.4), r * 0.8, r * 0.8)
        else:
            p.drawEllipse(QPointF(0, 0), r, r)
