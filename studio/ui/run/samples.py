"""A grid of example thumbnails with captions, painted in one widget (cheaper
than a QLabel per sample): the dataset preview and the validation results."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget


WRONG = "#e5484d"  # a misclassified caption: readable on light and dark

@dataclass
class Sample:
    image: np.ndarray | None   # uint8 H×W (grey) or H×W×3
    caption: str
    wrong: bool = False        # draw a red frame (misclassified)
    detail: str = ""           # second caption line


def to_qimage(image: np.ndarray) -> QImage:
    """uint8 H×W or H×W×3 → a QImage that owns a copy of the pixels."""
    a = np.ascontiguousarray(image)
    if a.ndim == 2:
        h, w = a.shape
        return QImage(a.data, w, h, w, QImage.Format_Grayscale8).copy()
    h, w, _ = a.shape
    return QImage(a.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def thumbnail(image: np.ndarray, size: int = 128) -> QPixmap:
    """uint8 H×W(×3) scaled to fit size×size, pixels kept sharp."""
    return QPixmap.fromImage(to_qimage(image)).scaled(size, size, Qt.KeepAspectRatio, Qt.FastTransformation)


def chw_to_hwc(chw) -> np.ndarray:
    """A dataset image (uint8 C×H×W tensor or array) for display."""
    a = chw.cpu().numpy() if hasattr(chw, "cpu") else np.asarray(chw)
    if a.dtype != np.uint8:
        lo, hi = float(a.min()), float(a.max())
        a = ((a - lo) / (hi - lo + 1e-12) * 255).astype(np.uint8)
    return a[0].copy() if a.shape[0] == 1 else np.ascontiguousarray(a[:3].transpose(1, 2, 0))


class SampleGrid(QWidget):
    def __init__(self, thumb: int = 56, parent=None):
        super().__init__(parent)
        self.thumb = thumb
        self._samples: list[Sample] = []
        self._images: list[QImage | None] = []
        self.empty_text = "No samples yet"
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def set_samples(self, samples: list[Sample]) -> None:
        self._samples = list(samples)
        self._images = [to_qimage(s.image) if s.image is not None else None for s in self._samples]
        self.updateGeometry()
        self.update()

    def samples(self) -> list[Sample]:
        return list(self._samples)

    def _cell(self) -> QSize:
        lines = 2 if any(s.detail for s in self._samples) else 1
        return QSize(self.thumb + 26, self.thumb + 6 + 14 * lines)

    def _columns(self, width: int) -> int:
        return max(1, width // self._cell().width())

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        n = max(1, len(self._samples))
        rows = (n + self._columns(width) - 1) // self._columns(width)
        return rows * self._cell().height() + 4

    def sizeHint(self) -> QSize:
        return QSize(4 * self._cell().width(), self.heightForWidth(4 * self._cell().width()))

    def minimumSizeHint(self) -> QSize:
        return QSize(self._cell().width(), self._cell().height())

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.SmoothPixmapTransform, False)
        if not self._samples:
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self.empty_text)
            return
        cell = self._cell()
        cols = self._columns(self.width())
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(font)
        for i, (s, img) in enumerate(zip(self._samples, self._images)):
            x, y = (i % cols) * cell.width(), (i // cols) * cell.height()
            box = QRect(x + (cell.width() - self.thumb) // 2, y + 2, self.thumb, self.thumb)
            if img is not None:
                p.drawImage(box, img)
            else:
                p.fillRect(box, self.palette().color(QPalette.ColorRole.AlternateBase))
            if s.wrong:
                p.setPen(QPen(QColor("#d62728"), 2))
                p.drawRect(box.adjusted(-1, -1, 1, 1))
            # Theme colours: a fixed dark grey was invisible under the dark theme.
            p.setPen(QColor(WRONG) if s.wrong else self.palette().color(QPalette.ColorRole.WindowText))
            text_rect = QRect(x, box.bottom() + 2, cell.width(), 14)
            p.drawText(text_rect, Qt.AlignHCenter | Qt.AlignTop,
                       p.fontMetrics().elidedText(s.caption, Qt.ElideRight, cell.width() - 2))
            if s.detail:
                p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                p.drawText(text_rect.translated(0, 14), Qt.AlignHCenter | Qt.AlignTop,
                           p.fontMetrics().elidedText(s.detail, Qt.ElideRight, cell.width() - 2))
