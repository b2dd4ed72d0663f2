"""The run panel's Curves / Results / Dataset tabs.

Every page scrolls, so the training dock can be made short (the canvas is the
heart of the window): its contents keep a readable minimum rather than squash.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from studio.ui.run.plots import ONE_ROW_BELOW, LivePlots


class _CurvesScroll(QScrollArea):
    """Lays the plots out in one row when the dock is short, two by two when tall.
    Only a user resize gets here: nothing in a run changes this widget's size."""

    def __init__(self, plots: LivePlots):
        super().__init__()
        self.plots = plots

    def resizeEvent(self, event) -> None:
        self.plots.arrange(event.size().height() < ONE_ROW_BELOW)
        super().resizeEvent(event)


def _scrolling(widget: QWidget, scroll: QScrollArea | None = None) -> QScrollArea:
    scroll = scroll or QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.NoFrame)
    scroll.setWidget(widget)
    return scroll


def build_tabs(plots: LivePlots, run_list: QWidget, results: QWidget, preview: QWidget,
               activations: QWidget | None = None) -> QTabWidget:
    runs_title = QLabel("Runs")
    runs_title.setProperty("role", "section")
    side_box = QWidget()  # the runs, then what the line styles and colours mean
    side_box.setFixedWidth(180)
    side = QVBoxLayout(side_box)
    side.setContentsMargins(0, 0, 0, 0)
    side.setSpacing(0)
    side.addWidget(runs_title)
    side.addWidget(run_list, 1)
    side.addWidget(plots.legend)
    curves = QWidget()
    ch = QHBoxLayout(curves)
    ch.setContentsMargins(2, 2, 2, 0)
    ch.addWidget(plots, 1)
    ch.addWidget(side_box)

    tabs = QTabWidget()
    tabs.setDocumentMode(True)
    tabs.addTab(_scrolling(curves, _CurvesScroll(plots)), "Curves")
    tabs.addTab(_scrolling(results), "Results")
    tabs.addTab(_scrolling(preview), "Dataset")
    if activations is not None:
        tabs.addTab(_scrolling(activations), "Activations")
    return tabs
