"""An attention layer's map as a picture: a T×T heat map, rows the step that looks,
columns the steps it looks at, in the Activations colour ramp, with the first, middle
and last step numbered along both edges. Drawn for the Activations tab and the
inspector's Activations section alike."""
from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

from studio.train import attention_maps
from studio.ui.editor.attention_chooser import Choice
from studio.ui.run.ramp import colourize
from studio.ui.run.samples import to_qimage
from studio.ui.style import theme

HOW_TO_READ = "Row t: how much step t draws on each step. Bright = attended."
NOT_YET = ("No attention map in this snapshot: it is worked out only while an attention layer is shown. "
           "It comes with the next epoch, or with Refresh once no run is training.")
LEFT, TOP = 22, 14   # room for the step numbers (and the axis names, when there is room)


def shape(maps: torch.Tensor | None) -> tuple[int, int]:
    """(layers, heads) of a node's probe maps N×layers×heads×T×T; (0, 0) when unknown."""
    return (0, 0) if maps is None else (int(maps.shape[1]), int(maps.shape[2]))


def render(maps: torch.Tensor, i: int, choice: Choice, max_w: int, max_h: int) -> tuple[QPixmap, str]:
    """Example i's map for the chosen layer and head, fitted to max_w × max_h (cells
    enlarged by whole pixels, so they stay crisp), and what it shows."""
    heat = attention_maps.summarize(maps[min(i, maps.shape[0] - 1)], choice.layer, choice.head)
    rgb = np.ascontiguousarray(colourize(heat.image))
    t, s = rgb.shape[:2]
    fit = min((max_h - TOP - 2) / t, (max_w - LEFT - 2) / s)
    scale = float(int(fit)) if fit >= 1 else max(fit, 0.1)
    w, h = max(1, round(s * scale)), max(1, round(t * scale))
    image = QPixmap.fromImage(to_qimage(rgb)).scaled(
        w, h, Qt.IgnoreAspectRatio, Qt.FastTransformation if scale >= 1 else Qt.SmoothTransformation)
    pix = QPixmap(LEFT + w + 2, TOP + h + 2)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    try:
        p.drawPixmap(LEFT, TOP, image)
        font = QFont(p.font())
        font.setPixelSize(9)
        p.setFont(font)
        p.setPen(QColor(theme.colors().muted))
        for k in sorted({0, (s - 1) // 2, s - 1}):   # columns: the steps looked at
            x = LEFT + round((k + 0.5) * scale)
            p.drawText(QRect(x - 15, 0, 30, TOP - 2), Qt.AlignHCenter | Qt.AlignBottom, str(k))
        for k in sorted({0, (t - 1) // 2, t - 1}):   # rows: the step looking
            y = TOP + round((k + 0.5) * scale)
            p.drawText(QRect(0, y - 6, LEFT - 3, 12), Qt.AlignRight | Qt.AlignVCenter, str(k))
    finally:
        p.end()
    return pix, f"attention, {heat.caption}"
