"""A CanvasView on a fresh model, and a driver that sends synthesized mouse
events to its viewport (QTest press/move/release is unreliable on QGraphicsView)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QUndoStack
from PySide6.QtWidgets import QApplication

from studio.graph.model import GraphModel
from studio.ui.editor.canvas import CanvasView

L = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier


class Driver:
    def __init__(self, view: CanvasView):
        self.view = view

    def _send(self, kind, scene_pos: QPointF, button, buttons, mods) -> None:
        vp = self.view.viewport()
        local = QPointF(self.view.mapFromScene(scene_pos))
        glob = QPointF(vp.mapToGlobal(local.toPoint()))
        ev = QMouseEvent(kind, local, local, glob, button, buttons, mods)
        QApplication.sendEvent(vp, ev)

    def press(self, p: QPointF, button=L, mods=NOMOD) -> None:
        self._send(QEvent.Type.MouseButtonPress, p, button, button, mods)

    def move(self, p: QPointF, buttons=L, mods=NOMOD) -> None:
        self._send(QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, buttons, mods)

    def release(self, p: QPointF, button=L, mods=NOMOD) -> None:
        self._send(QEvent.Type.MouseButtonRelease, p, button, Qt.MouseButton.NoButton, mods)

    def click(self, p: QPointF, mods=NOMOD) -> None:
        self.press(p, mods=mods)
        self.release(p, mods=mods)

    def drag(self, a: QPointF, b: QPointF, mods=NOMOD, steps: int = 6) -> None:
        self.press(a, mods=mods)
        for i in range(1, steps + 1):
            t = i / steps
            self.move(QPointF(a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t), mods=mods)
        self.release(b, mods=mods)

    def out_port(self, nid: str, port: str = "out") -> QPointF:
        return self.view.port_scene_pos(nid, port, "out")

    def in_port(self, nid: str, port: str = "in") -> QPointF:
        return self.view.port_scene_pos(nid, port, "in")

    def connect(self, a: str, b: str) -> None:
        self.drag(self.out_port(a), self.in_port(b))

    def body(self, nid: str) -> QPointF:
        """A point on the card body away from ports and badge."""
        r = self.view.node_scene_rect(nid)
        return QPointF(r.center().x(), r.bottom() - 8)


@pytest.fixture
def canvas(qtbot):
    view = CanvasView()
    qtbot.addWidget(view)
    model, stack = GraphModel(), QUndoStack()
    view.set_model(model, stack)
    view.resize(1200, 700)
    view.show()
    qtbot.waitExposed(view)
    view.resetTransform()
    view.centerOn(QPointF(400, 150))
    return view, Driver(view)
