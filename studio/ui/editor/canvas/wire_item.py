"""Wires: a cubic Bézier from an output port to an input port (a backwards one routed
through the gaps between cards), with a pill at
the midpoint showing the tensor shape the wire carries (full shape in the
tooltip). `DragWire` is the temporary curve drawn while connecting."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

if TYPE_CHECKING:
    from studio.graph.model import Edge
    from studio.graph.spec import Shape

    from studio.ui.editor.canvas.node_item import NodeItem
    from studio.ui.editor.canvas.theme import CanvasTheme


HIT_W = 6.0  # half the width of a wire's clickable band
LABEL_LOD = 0.45  # below this zoom shape labels are not drawn (unreadable)


STUB = 40.0     # how far a backwards wire runs straight out of its port before turning
OVER = 70.0     # how far above its target's port a backwards wire runs back: in the gap over the card
CORNER = 14.0


def bezier(a: QPointF, b: QPointF) -> QPainterPath:
    """Horizontal tangents at both ends. A backwards wire (a loop, or a net that wraps into
    the next band) runs back through the gaps between cards instead: out to the right,
    up or down beside its source's column, back left above its target's row, down beside
    the target's column and in, so it never runs behind the cards it passes."""
    if b.x() < a.x():
        y = b.y() - OVER
        return _rounded([a, QPointF(a.x() + STUB, a.y()), QPointF(a.x() + STUB, y), QPointF(b.x() - STUB, y),
                         QPointF(b.x() - STUB, b.y()), b])
    dx = max(abs(b.x() - a.x()) * 0.5, 40.0)
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


def _rounded(points: list[QPointF]) -> QPainterPath:
    """A polyline with its corners rounded."""
    path = QPainterPath(points[0])
    for prev, at, nxt in zip(points, points[1:], points[2:]):
        d1, d2 = at - prev, nxt - at
        l1, l2 = (d1.x() ** 2 + d1.y() ** 2) ** 0.5, (d2.x() ** 2 + d2.y() ** 2) ** 0.5
        r = min(CORNER, l1 / 2, l2 / 2)
        if r <= 0:
            continue
        path.lineTo(at - d1 * (r / l1))
        path.quadTo(at, at + d2 * (r / l2))
    path.lineTo(points[-1])
    return path


class ShapeLabel(QGraphicsItem):
    """A top-level item (not the wire's child) so it can stack above cards: where
    cards sit close together a shape label must stay readable, not hidden."""
    PAD_X, H = 6.0, 16.0

    def __init__(self, wire: "WireItem"):
        super().__init__()
        self.wire = wire
        self._text = ""
        self._rect = QRectF()
        self._shape: "Shape | None | bool" = False  # False: never set
        self._pending: "Shape | None | bool" = False  # a deferred set_shape (off-screen wires)
        self.setZValue(2)

    @property
    def text(self) -> str:
        self.apply_pending()
        return self._text

    def toolTip(self) -> str:
        self.apply_pending()
        return super().toolTip()

    def shape_shown(self) -> "Shape | None | bool":
        return self._shape

    def defer_shape(self, shape: "Shape | None") -> None:
        """Remember a new shape; the scene applies it in a later batch (or a reader does)."""
        self._pending = shape

    def apply_pending(self) -> bool:
        if self._pending is False:
            return False
        shape, self._pending = self._pending, False
        self.set_shape(shape)
        return True

    def set_shape(self, shape: "Shape | None") -> None:
        self._pending = False
        if shape == self._shape:
            return  # most re-inferences leave most wires as they were
        self._shape = shape
        if shape is None:
            self.prepareGeometryChange()
            self._text = ""
            self.setToolTip("")
            self.hide()
            return
        t = self.wire.theme
        self._text = shape.label()
        w = t.text_width("label", self._text) + 2 * self.PAD_X
        rect = QRectF(-w / 2, -self.H / 2, w, self.H)
        if rect != self._rect:  # same width (e.g. 48 -> 64): no re-indexing of the item
            self.prepareGeometryChange()
            self._rect = rect
        kind = "sequence" if shape.seq else ("token ids" if shape.dtype == "long" else "tensor")
        self.setToolTip(f"{kind} {shape.full()}  (batch dimension not shown)")
        self.show()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, p: QPainter, option, widget=None) -> None:
        if option.levelOfDetailFromTransform(p.worldTransform()) < LABEL_LOD:
            return  # unreadable at this zoom; the wire alone says enough
        t = self.wire.theme
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        hot = self.wire.isSelected() or self.wire.hot
        p.setPen(QPen(t.color("accent") if hot else t.color("label_border"), 1.0))
        p.setBrush(t.color("label_bg"))
        p.drawRoundedRect(self._rect, self.H / 2, self.H / 2)
        p.setFont(t.label_font)
        p.setPen(t.color("label_text"))
        p.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self._text)


class WireItem(QGraphicsPathItem):
    def __init__(self, edge: "Edge", src: "NodeItem", dst: "NodeItem", theme: "CanvasTheme"):
        super().__init__()
        self.edge, self.src, self.dst, self.theme = edge, src, dst, theme
        self.hot = False  # hovered, or the target of a node dropped onto it
        self.has_shape = False
        self._shape_path: QPainterPath | None = None
        self._bounds = QRectF()
        self.setZValue(0)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.label = ShapeLabel(self)
        src.wires.add(self)
        dst.wires.add(self)
        self.update_path()

    @property
    def eid(self) -> str:
        return self.edge.id

    def detach(self) -> None:
        self.src.wires.discard(self)
        self.dst.wires.discard(self)

    def set_shown(self, on: bool) -> None:
        """Hide or show the wire with its label (hidden while being re-routed)."""
        self.setVisible(on)
        self.label.setVisible(on and bool(self.label.text))

    def endpoints(self) -> tuple[QPointF, QPointF]:
        a = self.src.port(self.edge.src_port, "out").scenePos()
        b = self.dst.port(self.edge.dst_port, "in").scenePos()
        return a, b

    def update_path(self) -> None:
        a, b = self.endpoints()
        path = bezier(a, b)
        self.prepareGeometryChange()
        self._shape_path = None  # stroked lazily: only hit tests need it
        self._bounds = path.controlPointRect().adjusted(-HIT_W, -HIT_W, HIT_W, HIT_W)
        self.setPath(path)
        self.label.setPos(path.pointAtPercent(0.5))

    def shape(self) -> QPainterPath:
        if self._shape_path is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(2 * HIT_W)
            self._shape_path = stroker.createStroke(self.path())
        return self._shape_path

    def boundingRect(self) -> QRectF:
        return self._bounds

    def set_shape(self, shape: "Shape | None", defer: bool = False) -> None:
        """defer: keep the label's text for a later batch (the wire is off-screen)."""
        if self.has_shape != (shape is not None):
            self.has_shape = shape is not None
            self.update()  # the stroke colour tells known from unknown shapes
        if defer:
            self.label.defer_shape(shape)
        else:
            self.label.set_shape(shape)

    def set_hot(self, on: bool) -> None:
        if on != self.hot:
            self.hot = on
            self.update()
            self.label.update()

    def hoverEnterEvent(self, ev) -> None:
        self.set_hot(True)

    def hoverLeaveEvent(self, ev) -> None:
        self.set_hot(False)

    def paint(self, p: QPainter, option, widget=None) -> None:
        t = self.theme
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.isSelected() or self.hot:
            pen = QPen(t.color("accent"), 2.6)
        else:
            pen = QPen(t.color("wire") if self.has_shape else t.color("wire_unknown"), 1.8)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(self.path())


class DragWire(QGraphicsPathItem):
    """The curve following the cursor while a new wire is dragged."""

    def __init__(self, theme: "CanvasTheme", from_out: bool):
        super().__init__()
        self.theme, self.from_out = theme, from_out
        self.setZValue(3)
        pen = QPen(theme.color("accent"), 2.0, Qt.PenStyle.DashLine)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.setPen(pen)

    def set_ends(self, anchor: QPointF, cursor: QPointF) -> None:
        self.setPath(bezier(anchor, cursor) if self.from_out else bezier(cursor, anchor))
