"""The node card: a rounded card with a category-tinted header (layer title and
the node id), a one-line parameter summary, ports on the sides, and a red "!"
badge while validation reports a problem on the node.

The item only draws model state; the scene tells it when that state changes.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from studio.graph.layers import spec as layer_spec

from studio.ui.editor.canvas.port_item import PortItem

if TYPE_CHECKING:
    from studio.graph.validate import Problem

    from studio.ui.editor.canvas.theme import CanvasTheme

# Enum members looked up once: PySide6 enum attribute access is slow enough to
# show up when 500 cards are built.
_SELECTABLE = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
_DEVICE_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
_NO_PEN = Qt.PenStyle.NoPen
_NO_BRUSH = Qt.BrushStyle.NoBrush
_VCENTER = Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
_LEFT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
_AA = QPainter.RenderHint.Antialiasing
_SMOOTH = QPainter.RenderHint.SmoothPixmapTransform
DETAIL_LOD = 0.45  # below this zoom text is unreadable: draw a plain card

WIDTH = 160.0
HEADER = 26.0
TITLE_ROOM = WIDTH - 36  # from the category dot to the error badge
ROW = 20.0
RADIUS = 7.0
SHADOW = 3.0
PREVIEW_GAP = 6.0   # between the card and its activation thumbnail
PREVIEW_MAX_H = 64.0


class ErrorBadge(QGraphicsItem):
    """Red "!" on the card's corner; clicking it applies the first available fix."""
    R = 8.0

    def __init__(self, node: "NodeItem"):
        super().__init__(node)
        self.node = node
        self.setZValue(2)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def boundingRect(self) -> QRectF:
        return QRectF(-self.R - 1, -self.R - 1, 2 * self.R + 2, 2 * self.R + 2)

    def paint(self, p: QPainter, option, widget=None) -> None:
        t = self.node.theme
        p.setPen(QPen(t.color("card"), 1.5))
        p.setBrush(t.color("error"))
        p.drawEllipse(QPointF(0, 0), self.R, self.R)
        p.setPen(QColor("white"))
        p.setFont(t.badge_font)
        p.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "!")


class NodeItem(QGraphicsItem):
    MIN_BODY = 28.0  # below the header; a block card needs a second text line

    def __init__(self, nid: str, type_: str, params: dict, theme: "CanvasTheme"):
        super().__init__()
        self.nid, self.type, self.theme = nid, type_, theme
        self.spec = layer_spec(type_)
        self.wires: set = set()
        self.problems: tuple["Problem", ...] = ()
        self.ports: dict[tuple[str, str], PortItem] = {}
        rows = max(len(self.spec.inputs), len(self.spec.outputs), 1)
        self.body = max(self.MIN_BODY, rows * ROW + 8)
        self.height = HEADER + self.body
        self._rect = QRectF(0, 0, WIDTH, self.height)
        self.setFlag(_SELECTABLE)
        self.setCacheMode(_DEVICE_CACHE)
        self.setZValue(1)
        self._make_ports()
        self.badge = ErrorBadge(self)
        self.badge.setPos(WIDTH - 3, 3)
        self.badge.hide()
        self._preview: QImage | None = None
        self._preview_rect = QRectF()
        self.set_params(params)

    # -- geometry --------------------------------------------------------------
    def _make_ports(self) -> None:
        for direction, ports, x in (("in", self.spec.inputs, 0.0), ("out", self.spec.outputs, WIDTH)):
            n = len(ports)
            for i, port in enumerate(ports):
                item = PortItem(self, port.name, direction, port.multi if direction == "in" else False,
                                port.label)
                y = HEADER + self.body / 2 if n == 1 else HEADER + 4 + ROW * i + ROW / 2
                item.setPos(x, y)
                self.ports[(port.name, direction)] = item

    def port(self, name: str, direction: str) -> PortItem:
        return self.ports[(name, direction)]

    def boundingRect(self) -> QRectF:
        r = self._rect.adjusted(-5, -5, 5, SHADOW + 5)
        # the thumbnail below the card repaints with it; shape() (hits, wires) stays the card
        return r.united(self._preview_rect.adjusted(-1, -1, 1, 1)) if self._preview is not None else r

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, RADIUS, RADIUS)
        return path

    def card_rect(self) -> QRectF:
        return self._rect

    # -- state from the model -----------------------------------------------------
    def set_params(self, params: dict) -> None:
        t = self.theme
        try:
            summary = self.spec.summary(params)
        except Exception:  # a summary must never break drawing
            summary = ""
        # header: the title alone (it must stay whole); body: summary left, id right
        # the summary has priority; the id gets what is left (at least a stub)
        inner = WIDTH - 28
        self._summary = t.summary_fm.elidedText(summary, Qt.TextElideMode.ElideRight, inner - 30)
        room = inner - (t.text_width("summary", self._summary) + 10 if self._summary else 0)
        self._id = t.id_fm.elidedText(self.nid, Qt.TextElideMode.ElideMiddle, room)
        self._title_font, self._title = t.fitted_title(self.spec.title, TITLE_ROOM)
        self._refresh_tooltip()
        self.update()

    def set_problems(self, problems: tuple["Problem", ...]) -> None:
        if problems == self.problems:
            return
        self.problems = problems
        self.badge.setVisible(bool(problems))
        self._refresh_tooltip()
        self.update()

    def set_preview(self, image: QImage | None) -> None:
        """A thumbnail of the node's output drawn just below the card (None removes it):
        at most PREVIEW_MAX_H tall and the card's width, aspect kept, centred."""
        if image is not None and image.isNull():
            image = None
        if image is None and self._preview is None:
            return
        self.prepareGeometryChange()
        self._preview = image
        if image is None:
            self._preview_rect = QRectF()
        else:
            scale = min(PREVIEW_MAX_H / max(image.height(), 1), WIDTH / max(image.width(), 1))
            w, h = max(1.0, image.width() * scale), max(1.0, image.height() * scale)
            self._preview_rect = QRectF((WIDTH - w) / 2, self.height + SHADOW + PREVIEW_GAP, w, h)
        self.update()

    def preview(self) -> QImage | None:
        return self._preview

    def fixes(self):
        return [f for p in self.problems for f in p.fixes]

    def _refresh_tooltip(self) -> None:
        s = self.spec
        tip = f"<b>{html.escape(s.title)}</b> <span style='color:gray'>{self.nid}</span><br>" \
              f"{html.escape(s.description)}"
        if self.problems:
            msgs = "".join(f"<li>{html.escape(p.message)}</li>" for p in self.problems)
            tip = f"<b style='color:#e5484d'>Problem</b><ul style='margin:2px'>{msgs}</ul>" + tip
            fixes = self.fixes()
            if len(fixes) == 1:
                tip += f"<br><i>Click the red badge to {html.escape(fixes[0].label.lower())}.</i>"
            elif fixes:
                choices = " or ".join(html.escape(f.label.lower()) for f in fixes)
                tip += f"<br><i>Click the red badge to choose: {choices}.</i>"
            self.badge.setToolTip(tip)
        self.setToolTip(tip)

    def move_to(self, x: float, y: float) -> None:
        """Move the card and re-route its wires. (Explicit rather than itemChange:
        a Python itemChange runs for every flag and child change and was the
        biggest cost of loading large graphs.)"""
        self.setPos(x, y)
        for w in self.wires:
            w.update_path()

    # -- drawing -------------------------------------------------------------------
    def paint(self, p: QPainter, option, widget=None) -> None:
        t = self.theme
        r = self._rect
        cat = t.category(self.spec.category)
        p.setRenderHint(_AA)
        if option.levelOfDetailFromTransform(p.worldTransform()) < DETAIL_LOD:
            self._paint_behind(p, cat, plain=True)
            self._paint_plain(p, cat)
            if self._preview is not None:
                self._paint_preview(p)
            return
        self._paint_behind(p, cat, plain=False)
        # soft drop shadow: one offset rounded rect is enough at card scale
        p.setPen(_NO_PEN)
        p.setBrush(t.color("shadow"))
        p.drawRoundedRect(r.translated(0, SHADOW - 1).adjusted(-0.5, 0, 0.5, 1), RADIUS + 1, RADIUS + 1)
        # card
        p.setBrush(t.color("card"))
        p.drawRoundedRect(r, RADIUS, RADIUS)
        # header: category tint, clipped to the card's rounded top
        header = QPainterPath()
        header.addRoundedRect(r, RADIUS, RADIUS)
        top = QPainterPath()
        top.addRect(QRectF(r.left(), r.top(), r.width(), HEADER))
        tint = QColor(cat)
        tint.setAlpha(t.p.header_alpha)
        p.setBrush(tint)
        p.drawPath(header.intersected(top))
        p.setBrush(cat)
        p.drawRoundedRect(QRectF(r.left() + 10, r.top() + 9, 8, 8), 2.5, 2.5)
        # text
        p.setFont(self._title_font)
        p.setPen(t.color("text"))
        p.drawText(QRectF(24, 0, TITLE_ROOM + 2, HEADER), _VCENTER, self._title)
        self._paint_body(p)
        # border: error beats selection beats the quiet default
        if self.problems:
            pen = QPen(t.color("error"), 2.0)
        elif self.isSelected():
            pen = QPen(t.color("accent"), 2.0)
        else:
            pen = self._quiet_border(cat)
        p.setPen(pen)
        p.setBrush(_NO_BRUSH)
        p.drawRoundedRect(r, RADIUS, RADIUS)
        if self.problems and self.isSelected():  # keep selection visible on a broken node
            p.setPen(QPen(t.color("accent"), 1.2))
            p.drawRoundedRect(r.adjusted(-3.5, -3.5, 3.5, 3.5), RADIUS + 3, RADIUS + 3)
        if self._preview is not None:
            self._paint_preview(p)

    def _paint_body(self, p: QPainter) -> None:
        t = self.theme
        body = QRectF(14, HEADER, WIDTH - 28, self.body)
        p.setFont(t.id_font)
        p.setPen(t.color("text_dim"))
        p.drawText(body, _RIGHT, self._id)
        if self._summary:
            p.setFont(t.summary_font)
            p.setPen(t.color("text"))
            p.drawText(body, _LEFT, self._summary)

    def _paint_behind(self, p: QPainter, cat: QColor, plain: bool) -> None:
        """Drawn before the card (a block's stacked cards)."""

    def _quiet_border(self, cat: QColor) -> QPen:
        return QPen(self.theme.color("card_border"), 1.0)

    def _paint_preview(self, p: QPainter) -> None:
        pr = self._preview_rect
        # smooth when shrinking a feature-map grid, crisp cells when enlarging bars
        p.setRenderHint(_SMOOTH, pr.width() < self._preview.width())
        p.drawImage(pr, self._preview)
        p.setPen(QPen(self.theme.color("card_border"), 1.0))
        p.setBrush(_NO_BRUSH)
        p.drawRect(pr.adjusted(-0.5, -0.5, 0.5, 0.5))

    def _paint_plain(self, p: QPainter, cat: QColor) -> None:
        t = self.theme
        border = t.color("error") if self.problems else (
            t.color("accent") if self.isSelected() else t.color("card_border"))
        p.setPen(QPen(border, 2.0 if (self.problems or self.isSelected()) else 1.0))
        p.setBrush(t.color("card"))
        p.drawRoundedRect(self._rect, RADIUS, RADIUS)
        p.setPen(_NO_PEN)
        p.setBrush(cat)
        p.drawRect(QRectF(1, 1, WIDTH - 2, HEADER - 1))

    def set_port_connected(self, name: str, direction: str, on: bool) -> None:
        port = self.ports.get((name, direction))
        if port is not None:
            port.set_connected(on)

    def free_ports(self) -> tuple[str | None, str | None]:
        """First input and output port names if neither has a wire (for drop-on-wire)."""
        ins = [pt for (n, d), pt in self.ports.items() if d == "in"]
        outs = [pt for (n, d), pt in self.ports.items() if d == "out"]
        if not ins or not outs or any(pt.connected for pt in ins + outs):
            return None, None
        return ins[0].name, outs[0].name
