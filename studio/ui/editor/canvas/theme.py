"""Canvas colours and fonts for the light and dark themes.

One `CanvasTheme` instance is shared by every item in a scene; items read it in
paint(), so switching theme is: swap the palette, then update() every item.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF

from studio.graph.layers import CATEGORY

GRID = 20  # snap step and dot spacing, scene px


@dataclass(frozen=True)
class Palette:
    background: str
    dots: str
    card: str
    card_border: str
    text: str
    text_dim: str
    wire: str
    wire_unknown: str
    label_bg: str
    label_border: str
    label_text: str
    accent: str
    error: str
    header_alpha: int  # category tint strength in the card header
    shadow: str


LIGHT = Palette(
    background="#f3f4f6", dots="#c8ccd3", card="#ffffff", card_border="#d5d9df",
    text="#1d2128", text_dim="#8a909a", wire="#8d96a3", wire_unknown="#c3c8cf",
    label_bg="#ffffff", label_border="#d5d9df", label_text="#3b414a",
    accent="#2f7bf5", error="#e5484d", header_alpha=38, shadow="#14000000",
)
DARK = Palette(
    background="#1a1c20", dots="#33373e", card="#262a30", card_border="#3a3f47",
    text="#e7e9ec", text_dim="#8b929c", wire="#6f7886", wire_unknown="#454b54",
    label_bg="#2d3239", label_border="#434953", label_text="#c8ced6",
    accent="#4c9aff", error="#f2555a", header_alpha=52, shadow="#40000000",
)


def _font(px: int, weight: QFont.Weight = QFont.Weight.Normal) -> QFont:
    f = QFont()
    f.setPixelSize(px)  # pixel sizes: cards look the same on every screen DPI
    f.setWeight(weight)
    return f


class CanvasTheme:
    """The current palette plus fonts and their metrics, cached once per scene."""

    def __init__(self, dark: bool = False) -> None:
        self.dark = dark
        self.p = DARK if dark else LIGHT
        self.title_font = _font(12, QFont.Weight.DemiBold)
        self.id_font = _font(10)
        self.summary_font = _font(11)
        self.label_font = _font(10)
        self.badge_font = _font(11, QFont.Weight.Bold)
        self.title_fm = QFontMetricsF(self.title_font)
        self.id_fm = QFontMetricsF(self.id_font)
        self.summary_fm = QFontMetricsF(self.summary_font)
        self.label_fm = QFontMetricsF(self.label_font)
        self._colors: dict[str, QColor] = {}
        self._widths: dict[tuple[str, str], float] = {}
        self._titles: dict[tuple[str, float], tuple[QFont, str]] = {}

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self.p = DARK if dark else LIGHT
        self._colors.clear()

    def color(self, name: str) -> QColor:
        """A palette colour by field name, as a cached QColor."""
        c = self._colors.get(name)
        if c is None:
            c = self._colors[name] = QColor(getattr(self.p, name))
        return c

    def text_width(self, font: str, text: str) -> float:
        """Cached horizontalAdvance: labels like "64×16×16" repeat across a graph."""
        w = self._widths.get((font, text))
        if w is None:
            w = self._widths[(font, text)] = getattr(self, font + "_fm").horizontalAdvance(text)
        return w

    def fitted_title(self, text: str, room: float) -> tuple[QFont, str]:
        """The title font, a pixel or two smaller when that keeps a long title whole
        ("Transformer encoder"), else elided; cached per title."""
        key = (text, room)
        hit = self._titles.get(key)
        if hit is None:
            for px in (12, 11, 10):
                font = self.title_font if px == 12 else _font(px, QFont.Weight.DemiBold)
                fm = self.title_fm if px == 12 else QFontMetricsF(font)
                if fm.horizontalAdvance(text) <= room:
                    hit = (font, text)
                    break
            else:
                hit = (font, fm.elidedText(text, Qt.TextElideMode.ElideRight, room))
            self._titles[key] = hit
        return hit

    def category(self, category: str) -> QColor:
        c = CATEGORY.get(category)
        return QColor(c.colour if c is not None else "#8b93a7")


def snap(v: float, step: int = GRID) -> float:
    return round(v / step) * step
