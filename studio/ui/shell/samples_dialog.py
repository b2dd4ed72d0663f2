"""Open Sample…: a browser of the ready-made projects in samples/, with each
one's name, description and a small preview (layers, parameters, the chain
of layer types). A sample that fails to load is listed with its error."""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QVBoxLayout, QWidget)

from studio.project import file as projects
from studio.graph.layers import CATEGORY, spec

from studio.ui.style import icons

from studio.ui.style import theme
from studio.ui.editor.inspector import human


@dataclass
class SampleInfo:
    path: Path
    name: str
    description: str = ""
    layers: int = 0
    params: int = 0
    macs: int = 0
    chain: str = ""
    error: str = ""
    model: object = None  # the loaded GraphModel, drawn by MiniGraph


class MiniGraph(QWidget):
    """A thumbnail of the network: one block per layer in its category colour,
    placed as in the file and scaled to fit, with the wires as thin lines."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = None
        self.setMinimumHeight(170)

    def set_model(self, model) -> None:
        self.model = model
        self.update()

    def paintEvent(self, _ev) -> None:
        c = theme.colors()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(c.border), 1))
        p.setBrush(QColor(c.base))
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        m = self.model
        if m is None or not len(m):
            return
        xs = [m.pos(n)[0] for n in m.nodes()]
        ys = [m.pos(n)[1] for n in m.nodes()]
        bw, bh = 150.0, 50.0  # a card's footprint in scene units
        w, h = max(xs) - min(xs) + bw, max(ys) - min(ys) + bh
        area = QRectF(self.rect()).adjusted(16, 16, -16, -16)
        k = min(area.width() / w, area.height() / h, 0.6)
        ox = area.left() + (area.width() - w * k) / 2 - min(xs) * k
        oy = area.top() + (area.height() - h * k) / 2 - min(ys) * k

        def box(n) -> QRectF:
            x, y = m.pos(n)
            return QRectF(ox + x * k, oy + y * k, bw * k, bh * k)

        p.setPen(QPen(QColor(c.muted), 1.2))
        for e in m.edges():
            a, b = box(e.src), box(e.dst)
            p.drawLine(QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y()))
        p.setPen(Qt.PenStyle.NoPen)
        for n in m.nodes():
            p.setBrush(QColor(CATEGORY[spec(m.type_of(n)).category].colour))
            r = box(n)
            p.drawRoundedRect(r, min(4.0, r.height() / 3), min(4.0, r.height() / 3))
        p.end()


def read_sample(path: Path) -> SampleInfo:
    try:
        p = projects.load(path)
    except projects.ProjectError as e:
        return SampleInfo(path, path.name, error=str(e))
    m = p.model
    weights, macs = m.shapes.totals()
    order = sorted(m.nodes(), key=lambda n: (m.pos(n)[1], m.pos(n)[0]))
    try:
        import networkx as nx
        order = list(nx.topological_sort(m.g))
    except Exception:  # noqa: BLE001 - a looped sample still gets a preview
        pass
    titles = [spec(m.type_of(n)).title for n in order]
    chain = " → ".join(titles[:14]) + (" → …" if len(titles) > 14 else "")
    return SampleInfo(path, p.name or path.name, p.description, len(m), weights, macs, chain, model=m)


def list_samples(folder: Path) -> list[SampleInfo]:
    if not folder.is_dir():
        return []
    return [read_sample(p) for p in sorted(folder.glob("*.studio.json"))]


class SamplesDialog(QDialog):
    def __init__(self, folder: Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open Sample")
        self.resize(820, 500)
        self.samples = list_samples(folder)
        self.list = QListWidget()
        self.list.setIconSize(QSize(20, 20))
        self.list.setSpacing(1)
        self.list.setMinimumWidth(230)
        self.list.setMaximumWidth(300)
        for s in self.samples:
            item = QListWidgetItem(icons.icon("samples" if not s.error else "warning"), s.name)
            item.setToolTip(str(s.path))
            self.list.addItem(item)
        self.title = QLabel()
        self.title.setProperty("role", "title")
        self.stats = QLabel()
        self.stats.setProperty("role", "muted")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.chain = QLabel()
        self.chain.setWordWrap(True)
        self.chain.setProperty("role", "caption")
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(16, 4, 8, 4)
        self.preview = MiniGraph()
        for w in (self.title, self.stats, self.preview, self.description, self.chain):
            rl.addWidget(w)
        rl.setSpacing(8)
        rl.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.list)
        body.addWidget(right, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(body, 1)
        lay.addWidget(self.buttons)
        self.list.currentRowChanged.connect(self._show)
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        if self.samples:
            self.list.setCurrentRow(0)
        else:
            self.title.setText("No samples found")
            self.description.setText(f"Looked in {html.escape(str(folder))}.")
            self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(False)

    def _show(self, row: int) -> None:
        if row < 0:
            return
        s = self.samples[row]
        self.title.setText(s.name)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Open)
        ok.setEnabled(not s.error)
        if s.error:
            self.stats.setText("This sample cannot be opened")
            self.description.setText(s.error)
            self.chain.setText("")
            self.preview.set_model(None)
            return
        self.stats.setText(f"{s.layers} layers · {human(s.params)} parameters · {human(s.macs)} mult-adds")
        self.description.setText(s.description or "No description.")
        self.chain.setText(s.chain)
        self.preview.set_model(s.model)

    def selected_path(self) -> Path | None:
        row = self.list.currentRow()
        if row < 0 or self.samples[row].error:
            return None
        return self.samples[row].path
