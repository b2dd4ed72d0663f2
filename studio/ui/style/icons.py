"""Line icons from assets/icons/*.svg, recoloured for the current theme.

The SVGs draw with `currentColor`; we substitute a concrete colour and render
with QSvgRenderer at a few sizes, so icons stay crisp at any scale and follow
light/dark themes. A missing asset gives an empty QIcon, never an error.
"""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from studio.graph.layers import CATEGORY
from studio.resources import resource_dir

ASSETS = resource_dir("assets")
ICON_DIR = ASSETS / "icons"
SIZES = (16, 20, 24, 32, 48)

_state = {"fg": "#3b4250", "disabled": "#a4a9b3"}


def set_colors(foreground: str, disabled: str) -> None:
    """Called by the theme: later icons are drawn in these colours."""
    if (foreground, disabled) != (_state["fg"], _state["disabled"]):
        _state["fg"], _state["disabled"] = foreground, disabled
        icon.cache_clear()


@lru_cache(maxsize=None)
def _svg(name: str) -> str:
    try:
        return (ICON_DIR / f"{name}.svg").read_text(encoding="utf-8")
    except OSError:
        return ""


def pixmap(name: str, size: int, color: str | None = None, dpr: float = 1.0) -> QPixmap:
    text = _svg(name)
    px = QPixmap(int(size * dpr), int(size * dpr))
    px.fill(Qt.GlobalColor.transparent)
    if not text:
        return px
    if color is not None:
        text = text.replace("currentColor", QColor(color).name())
    renderer = QSvgRenderer(QByteArray(text.encode("utf-8")))
    painter = QPainter(px)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size * dpr, size * dpr))
    painter.end()
    px.setDevicePixelRatio(dpr)
    return px


class SvgIconEngine(QIconEngine):
    """Renders the SVG on demand at the exact size asked for: crisp at any
    scale, and nothing is drawn for sizes the UI never uses."""

    def __init__(self, name: str, color: str, disabled: str) -> None:
        super().__init__()
        self.name, self.color, self.disabled = name, color, disabled
        self._cache: dict[tuple, QPixmap] = {}

    def pixmap(self, size, mode, state) -> QPixmap:
        color = self.disabled if mode == QIcon.Mode.Disabled else self.color
        side = max(1, min(size.width(), size.height()))
        key = (side, color)
        if key not in self._cache:
            self._cache[key] = pixmap(self.name, side, color)
        return self._cache[key]

    def paint(self, painter, rect, mode, state) -> None:
        side = min(rect.width(), rect.height())
        dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
        px = self.pixmap(QSize(int(side * dpr), int(side * dpr)), mode, state)
        painter.drawPixmap(QRect(rect.x(), rect.y(), side, side), px)

    def clone(self) -> "SvgIconEngine":
        return SvgIconEngine(self.name, self.color, self.disabled)


@lru_cache(maxsize=None)
def icon(name: str, color: str | None = None) -> QIcon:
    """Icon `name` drawn in `color` (default: the theme's foreground)."""
    if not _svg(name):
        return QIcon()
    return QIcon(SvgIconEngine(name, color or _state["fg"], _state["disabled"]))


def layer_icon(spec) -> QIcon:
    """A layer's palette icon, tinted with its category colour."""
    cat = CATEGORY[spec.category]
    return icon(spec.icon or cat.icon, cat.colour)


def app_icon() -> QIcon:
    ic = QIcon()
    for s in (16, 24, 32, 48, 64, 128, 256):
        ic.addPixmap(pixmap("app", s))
    return ic


def pause_icon(pal) -> QIcon:
    """A drawn pause sign (no SVG asset) in the palette's button-text colour."""
    icon = QIcon()
    for mode, group in ((QIcon.Normal, QPalette.Active), (QIcon.Disabled, QPalette.Disabled)):
        pm = QPixmap(20, 20)
        pm.fill(Qt.transparent)
        p = QPainter(pm)
        colour = pal.color(group, QPalette.ButtonText)
        p.fillRect(5, 4, 3, 12, colour)
        p.fillRect(12, 4, 3, 12, colour)
        p.end()
        icon.addPixmap(pm, mode)
    return icon
