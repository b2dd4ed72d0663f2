"""The card of a collapsed block: a stack of cards (two peek out above it) in the
Blocks colour, headed by the block's name, with what is inside (layers, blocks,
weights, "×N" when repeated) and an open button; double-click also goes inside.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from studio.ui.editor.canvas.node_item import HEADER, RADIUS, WIDTH, NodeItem

STACK = 4.0  # each card behind shows this much above the one in front
_LEFT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
_RIGHT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight


def count(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return str(n)


def contents(body) -> str:
    """'4 layers', '2 blocks', '1 block, 3 layers', 'empty' for what is between the ends."""
    types = [body.type_of(n) for n in body.nodes()]
    blocks = sum(t == "Block" for t in types)
    layers = sum(t not in ("Block", "BlockInput", "BlockOutput") for t in types)
    parts = [f"{blocks} block{'s' * (blocks != 1)}"] if blocks else []
    if layers or not blocks:
        parts.append(f"{layers} layer{'s' * (layers != 1)}" if layers else "empty")
    return ", ".join(parts)


class OpenButton(QGraphicsItem):
    """The "go inside" glyph in the header: a frame with an arrow into it."""
    S = 18.0

    def __init__(self, node: "BlockItem"):
        super().__init__(node)
        self.node = node
        self.hot = False
        self.setZValue(2)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Open this block to see and edit its layers (or double-click the card)")

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.S, self.S)

    def hoverEnterEvent(self, ev) -> None:
        self.hot = True
        self.update()

    def hoverLeaveEvent(self, ev) -> None:
        self.hot = False
        self.update()

    def paint(self, p: QPainter, option, widget=None) -> None:
        t = self.node.theme
        cat = t.category("Blocks")
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.boundingRect().adjusted(1, 1, -1, -1)
        fill = QColor(cat)
        fill.setAlpha(255 if self.hot else 40)
        p.setPen(QPen(cat, 1.2))
        p.setBrush(fill)
        p.drawRoundedRect(r, 4, 4)
        ink = QColor("white") if self.hot else t.color("text")
        pen = QPen(ink, 1.5)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        # an arrow pointing down-right, into the corner: "go in"
        p.drawLine(QPointF(5.5, 5.5), QPointF(12, 12))
        path = QPainterPath(QPointF(12, 7.5))
        path.lineTo(12, 12)
        path.lineTo(7.5, 12)
        p.drawPath(path)


class BlockItem(NodeItem):
    MIN_BODY = 44.0

    def __init__(self, nid, type_, params, theme):
        self._contents, self._weights = "", ""
        self._repeat = self._tune = ""
        super().__init__(nid, type_, params, theme)
        self.open_button = OpenButton(self)
        self.open_button.setPos(WIDTH - OpenButton.S - 14, (HEADER - OpenButton.S) / 2)

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(0, -2 * STACK - 1, 0, 0)

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        t = self.theme
        self._title = t.title_fm.elidedText(params["name"], Qt.TextElideMode.ElideRight, WIDTH - 62)
        self._repeat = f"×{params['repeat']}" if params["repeat"] > 1 else ""
        # fine-tuning marks, as layer cards show them in their summary
        self._tune = " · frozen" if params.get("frozen") else (
            f" · lr×{params['lr_mult']:g}" if params.get("lr_mult", 1.0) != 1.0 else "")
        self._refresh_tooltip()

    def set_stats(self, body, weights: int | None) -> None:
        """What the card says about its inside: `body` (a GraphModel), `weights` (×repeat;
        None while a problem inside leaves the count unknown)."""
        self._contents = contents(body)
        self._weights = f"{count(weights)} params" if weights is not None else "? params"
        self._refresh_tooltip()
        self.update()

    def _refresh_tooltip(self) -> None:
        super()._refresh_tooltip()
        extra = f"<br><b>{html.escape(getattr(self, '_title', ''))}</b> {self._repeat} — " \
                f"{self._contents or '…'}, {self._weights or '…'}.<br><i>Double-click to open.</i>"
        self.setToolTip(self.toolTip() + extra)

    def _paint_behind(self, p: QPainter, cat: QColor, plain: bool) -> None:
        tint = QColor(cat)
        tint.setAlpha(70)
        back = self.theme.color("card")
        for i in (2, 1):  # the farthest first
            inset = 7.0 * i
            r = QRectF(inset, -STACK * i, WIDTH - 2 * inset, HEADER)
            p.setPen(QPen(cat, 1.0))
            p.setBrush(back)
            p.drawRoundedRect(r, RADIUS, RADIUS)
            if not plain:
                p.setBrush(tint)
                p.drawRoundedRect(r, RADIUS, RADIUS)

    def _quiet_border(self, cat: QColor) -> QPen:
        return QPen(cat, 1.4)

    def _paint_body(self, p: QPainter) -> None:
        t = self.theme
        half = (self.body - 8) / 2
        top = QRectF(14, HEADER + 4, WIDTH - 28, half)
        bottom = QRectF(14, HEADER + 4 + half, WIDTH - 28, half)
        p.setFont(t.summary_font)
        p.setPen(t.color("text"))
        p.drawText(top, _LEFT, self._contents)
        if self._repeat:
            p.setFont(t.title_font)
            p.setPen(t.category("Blocks"))
            p.drawText(top, _RIGHT, self._repeat)
        p.setFont(t.id_font)
        p.setPen(t.color("text_dim"))
        stats = self._weights + self._tune
        p.drawText(bottom, _LEFT, stats)
        room = WIDTH - 28 - t.text_width("id", stats) - 10
        p.drawText(bottom, _RIGHT, t.id_fm.elidedText(self.nid, Qt.TextElideMode.ElideMiddle, room))
