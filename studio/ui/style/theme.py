"""Light and dark themes: a QPalette for every widget plus a small stylesheet
for the few things a palette cannot say (dock titles, flat toolbars, rounded
inputs). Calm neutral greys with one blue accent, in the spirit of Figma."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from studio.ui.style import icons


@dataclass(frozen=True)
class Colors:
    window: str      # docks, toolbars
    base: str        # inputs, lists
    alt: str         # alternating rows, hovered items
    text: str
    muted: str       # captions, secondary text
    border: str
    accent: str
    accent_text: str
    error: str
    ok: str
    icon: str
    icon_disabled: str


LIGHT = Colors(window="#f3f4f6", base="#ffffff", alt="#eceef2", text="#1f2430", muted="#6b7280",
               border="#d9dce3", accent="#4866e8", accent_text="#ffffff", error="#d03d3d",
               ok="#2f8f5b", icon="#3d4452", icon_disabled="#b3b8c2")
DARK = Colors(window="#202226", base="#17181b", alt="#2a2d32", text="#e3e5e8", muted="#9097a3",
              border="#34373d", accent="#6b87ff", accent_text="#ffffff", error="#ff6b6b",
              ok="#5cc98a", icon="#c9cdd4", icon_disabled="#5c616b")

_current = {"dark": False}
# Fusion draws an unchecked box's outline barely darker than the window: invisible on dark.
CHECK_MARK = (icons.ICON_DIR / "check_mark.svg").as_posix()


def colors(dark: bool | None = None) -> Colors:
    if dark is None:
        dark = _current["dark"]
    return DARK if dark else LIGHT


def palette(c: Colors) -> QPalette:
    p = QPalette()
    R = QPalette.ColorRole
    G = QPalette.ColorGroup
    for role, value in ((R.Window, c.window), (R.WindowText, c.text), (R.Base, c.base),
                        (R.AlternateBase, c.alt), (R.Text, c.text), (R.Button, c.window),
                        (R.ButtonText, c.text), (R.ToolTipBase, c.base), (R.ToolTipText, c.text),
                        (R.Highlight, c.accent), (R.HighlightedText, c.accent_text),
                        (R.Link, c.accent), (R.PlaceholderText, c.muted), (R.BrightText, c.error),
                        (R.Light, c.alt), (R.Midlight, c.border), (R.Mid, c.border),
                        (R.Dark, c.border), (R.Shadow, "#000000")):
        p.setColor(role, QColor(value))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G.Disabled, role, QColor(c.icon_disabled))
    return p


def stylesheet(c: Colors) -> str:
    return f"""
QMainWindow::separator {{ background: {c.border}; width: 1px; height: 1px; }}
QDockWidget {{ titlebar-close-icon: none; font-weight: 600; }}
QDockWidget::title {{ background: {c.window}; padding: 7px 10px; border-bottom: 1px solid {c.border};
  text-align: left; }}
QToolBar {{ background: {c.window}; border: none; border-bottom: 1px solid {c.border};
  spacing: 2px; padding: 3px 6px; }}
QToolBar::separator {{ background: {c.border}; width: 1px; margin: 5px 6px; }}
QToolButton {{ border: 1px solid transparent; border-radius: 6px; padding: 4px; }}
QToolButton:hover {{ background: {c.alt}; border-color: {c.border}; }}
QToolButton:pressed, QToolButton:checked {{ background: {c.border}; }}
QLineEdit[role="field"] {{ background: {c.base}; border: 1px solid {c.border}; border-radius: 5px;
  padding: 4px 6px; selection-background-color: {c.accent}; }}
QLineEdit[role="field"]:focus {{ border-color: {c.accent}; }}
QLineEdit[invalid="true"], QAbstractSpinBox[invalid="true"] {{
  border: 1px solid {c.error}; border-radius: 3px; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 0; }}
QScrollBar::handle {{ background: {c.border}; border-radius: 3px; margin: 2px; }}
QScrollBar::handle:hover {{ background: {c.muted}; }}
QScrollBar::handle:vertical {{ min-height: 28px; }}
QScrollBar::handle:horizontal {{ min-width: 28px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QTreeView, QListView {{ background: {c.window}; border: none; outline: 0; }}
QTreeView::item, QListView::item {{ padding: 4px 2px; border-radius: 5px; }}
QTreeView::item:hover, QListView::item:hover {{ background: {c.alt}; }}
QTreeView::item:selected, QListView::item:selected {{ background: {c.accent}; color: {c.accent_text}; }}
QScrollArea {{ border: none; background: {c.window}; }}
QScrollArea > QWidget > QWidget {{ background: {c.window}; }}
QLabel[role="title"] {{ font-size: 15px; font-weight: 600; }}
QLabel[role="section"] {{ color: {c.muted}; font-size: 11px; font-weight: 600;
  letter-spacing: 0.6px; padding-top: 10px; }}
QToolButton[role="section"], QToolButton[role="section"]:checked, QToolButton[role="section"]:hover {{
  color: {c.muted}; font-size: 11px; font-weight: 600; letter-spacing: 0.6px; background: transparent;
  border: none; padding: 10px 0px 0px 0px; }}
QGroupBox {{ border: none; margin-top: 18px; padding-top: 2px; }}
QGroupBox::title {{ subcontrol-origin: margin; subcontrol-position: top left; left: 8px; top: 4px;
  color: {c.muted}; font-size: 11px; font-weight: 600; letter-spacing: 0.6px; }}
QLabel[role="caption"] {{ color: {c.muted}; font-size: 11px; }}
QLabel[role="muted"] {{ color: {c.muted}; }}
QLabel[role="error"] {{ color: {c.error}; }}
QLabel[role="stat"] {{ font-size: 18px; font-weight: 600; }}
QLabel[role="stat_error"] {{ font-size: 18px; font-weight: 600; color: {c.error}; }}
QFrame[role="card"] {{ background: {c.base}; border: 1px solid {c.border}; border-radius: 8px; }}
QFrame#breadcrumb {{ background: {c.window}; border-bottom: 1px solid {c.border}; }}
QFrame#breadcrumb QToolButton {{ color: {c.accent}; padding: 2px 5px; }}
QStatusBar {{ border-top: 1px solid {c.border}; color: {c.muted}; }}
QMenu {{ background: {c.base}; border: 1px solid {c.border}; padding: 4px; }}
QMenu::item {{ padding: 5px 24px 5px 10px; border-radius: 4px; }}
QMenu::item:selected {{ background: {c.accent}; color: {c.accent_text}; }}
QMenu::separator {{ height: 1px; background: {c.border}; margin: 4px 6px; }}
QToolTip {{ background: {c.base}; color: {c.text}; border: 1px solid {c.border}; padding: 5px; }}
QCheckBox::indicator, QGroupBox::indicator {{ width: 13px; height: 13px; border-radius: 3px;
  border: 1px solid {c.muted}; background: {c.base}; }}
QCheckBox::indicator:hover {{ border-color: {c.accent}; }}
QCheckBox::indicator:checked, QGroupBox::indicator:checked {{ background: {c.accent}; border-color: {c.accent};
  image: url("{CHECK_MARK}"); }}
QCheckBox::indicator:disabled {{ border-color: {c.icon_disabled}; background: {c.window}; }}
QCheckBox::indicator:checked:disabled {{ background: {c.icon_disabled}; }}
"""


def apply(app: QApplication, dark: bool) -> None:
    """Theme the whole application; icons are re-coloured for what follows."""
    _current["dark"] = dark
    c = colors(dark)
    icons.set_colors(c.icon, c.icon_disabled)
    if app.property("studio_dark") == dark:
        return  # re-polishing every widget is slow (~1 s with plots); skip when unchanged
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")  # the only built-in style that honours a custom palette everywhere
    app.setPalette(palette(c))
    app.setStyleSheet(stylesheet(c))
    app.setProperty("studio_dark", dark)
