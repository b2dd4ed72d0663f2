"""Live training curves (pyqtgraph) and the run list that shows or hides runs.

Plot widgets are created once and reused for every run: PySide6 with pyqtgraph
crashed when PlotWidgets were created and destroyed repeatedly (DESIGN.md).
Data arrives into preallocated numpy arrays (run_history.Series); a 10 Hz timer
calls setData only for runs that changed, with clip-to-view and peak
downsampling so a long run still redraws in a few milliseconds.
"""
from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QGridLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout,
                               QWidget)

from .run_history import RunRecord, overfitting_hint

REDRAW_MS = 100
LAYER_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf")


class Log10Axis(pg.AxisItem):
    """Labels an axis whose data are log10 values with the values themselves.
    pyqtgraph's own log mode crowds minor-tick labels when the range is under a
    decade, which is typical for gradient norms."""

    def tickStrings(self, values, scale, spacing):
        return [f"{10 ** v:.2g}" for v in values]


def _new_plot(title: str, y_label: str, log_y: bool = False) -> pg.PlotWidget:
    axes = {"left": Log10Axis("left")} if log_y else None
    w = pg.PlotWidget(background="w", axisItems=axes)
    item = w.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    item.setMenuEnabled(False)
    item.hideButtons()
    w.titles = (title, y_label)
    _style_plot(w, QColor("#ffffff"), QColor("#333333"), QColor("#999999"))
    w.setMinimumSize(220, 150)
    return w


def _style_plot(w: pg.PlotWidget, bg: QColor, fg: QColor, mid: QColor) -> None:
    """Colours from the app palette, so the plots follow light and dark themes."""
    title, y_label = w.titles
    item = w.getPlotItem()
    w.setBackground(bg)
    item.setTitle(f"<span style='color:{fg.name()};font-size:9pt'>{title}</span>")
    for axis in ("left", "bottom"):  # pens first: setPen re-colours the axis label
        item.getAxis(axis).setPen(mid)
        item.getAxis(axis).setTextPen(fg)
    item.setLabel("bottom", "epoch", color=fg.name())
    item.setLabel("left", y_label, color=fg.name())


class _RunCurves:
    """The curve items of one run, across the plots."""

    def __init__(self, plots: "LivePlots", run: RunRecord):
        c = QColor(run.colour)
        faint = QColor(c)
        faint.setAlpha(60)
        self.loss_raw = plots.loss.plot(pen=pg.mkPen(faint, width=1))
        self.loss = plots.loss.plot(pen=pg.mkPen(c, width=1.6))
        self.loss_train_ep = plots.loss.plot(pen=None, symbol="o", symbolSize=6, symbolBrush=c, symbolPen=c)
        self.loss_val_ep = plots.loss.plot(pen=pg.mkPen(c, width=2, style=Qt.DashLine), symbol="t",
                                           symbolSize=8, symbolBrush="w", symbolPen=pg.mkPen(c, width=1.5))
        self.metric = plots.metric.plot(pen=pg.mkPen(c, width=1.6))
        self.metric_train_ep = plots.metric.plot(pen=None, symbol="o", symbolSize=6, symbolBrush=c, symbolPen=c)
        self.metric_val_ep = plots.metric.plot(pen=pg.mkPen(c, width=2, style=Qt.DashLine), symbol="t",
                                               symbolSize=8, symbolBrush="w", symbolPen=pg.mkPen(c, width=1.5))
        self.lr = plots.lr.plot(pen=pg.mkPen(c, width=1.6))
        self.items = [self.loss_raw, self.loss, self.loss_train_ep, self.loss_val_ep, self.metric,
                      self.metric_train_ep, self.metric_val_ep, self.lr]
        self._owners = [plots.loss] * 4 + [plots.metric] * 3 + [plots.lr]

    def update(self, run: RunRecord, percent: bool) -> None:
        b = run.batches
        x = b.col("x")
        self.loss_raw.setData(x, b.col("loss"))
        self.loss.setData(x, b.col("loss_smooth"))
        scale = 100.0 if percent else 1.0
        self.metric.setData(x, b.col("metric_smooth") * scale)
        self.lr.setData(x, b.col("lr"))
        ex = run.epoch_column("epoch")
        self.loss_train_ep.setData(ex, run.epoch_column("train_loss"))
        self.metric_train_ep.setData(ex, run.epoch_column("train_metric") * scale)
        val_loss, val_metric = run.epoch_column("val_loss"), run.epoch_column("val_metric")
        keep = np.isfinite(val_loss)
        self.loss_val_ep.setData(ex[keep], val_loss[keep])
        keep = np.isfinite(val_metric)
        self.metric_val_ep.setData(ex[keep], val_metric[keep] * scale)

    def set_visible(self, on: bool) -> None:
        for item in self.items:
            item.setVisible(on)

    def remove(self) -> None:
        for owner, item in zip(self._owners, self.items):
            owner.removeItem(item)


class LivePlots(QWidget):
    """Loss, accuracy/MAE, learning rate and per-layer gradient norms, for every
    run of the project overlaid in the run's colour."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss = _new_plot("Loss", "loss")
        self.metric = _new_plot("Accuracy", "accuracy (%)")
        self.lr = _new_plot("Learning rate", "lr")
        self.grads = _new_plot("Gradient norm per layer (log scale)", "grad norm", log_y=True)
        # Line styles are explained once, above the plots, so no legend hides a curve;
        # the run list explains the colours. Only the layer plot needs a legend.
        self.key = QLabel("<span style='letter-spacing:-2px'>━━</span> train, smoothed per batch"
                          "&nbsp;&nbsp;&nbsp;● train, per epoch&nbsp;&nbsp;&nbsp;"
                          "<span style='letter-spacing:-1px'>╌▽╌</span> validation, per epoch")
        self.key.setProperty("role", "caption")
        self.grads_key = QLabel()
        self.grads_key.setWordWrap(True)
        self.grads_key.setProperty("role", "caption")
        grads_box = QWidget()
        gv = QVBoxLayout(grads_box)
        gv.setContentsMargins(0, 0, 0, 0)
        gv.setSpacing(0)
        gv.addWidget(self.grads, 1)
        gv.addWidget(self.grads_key)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color:#8a4b00;background:#fff4e0;border:1px solid #f0c080;"
                                "border-radius:4px;padding:3px 6px;")
        self.hint.hide()

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        grid.addWidget(self.loss, 0, 0)
        grid.addWidget(self.metric, 0, 1)
        grid.addWidget(self.lr, 1, 0)
        grid.addWidget(grads_box, 1, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.key)
        outer.addWidget(self.hint)
        outer.addLayout(grid, 1)
        self.apply_palette(self.palette())

        self.metric_name = "accuracy"
        self._runs: dict[int, RunRecord] = {}
        self._curves: dict[int, _RunCurves] = {}
        self._grad_items: list = []
        self._grad_run: int | None = None
        self._dirty: set[int] = set()
        self.redraws = 0
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    # -- runs -------------------------------------------------------------------------
    def set_metric_name(self, name: str) -> None:
        self.metric_name = name
        self.metric.titles = ("Accuracy", "accuracy (%)") if name == "accuracy" else ("Mean absolute error", "MAE")
        self.apply_palette(self.palette())
        self._dirty |= set(self._runs)

    def apply_palette(self, pal) -> None:
        bg, fg, mid = pal.base().color(), pal.text().color(), pal.mid().color()
        for w in (self.loss, self.metric, self.lr, self.grads):
            _style_plot(w, bg, fg, mid)

    def add_run(self, run: RunRecord) -> None:
        self._runs[run.number] = run
        self._curves[run.number] = _RunCurves(self, run)
        self._curves[run.number].set_visible(run.visible)
        self._dirty.add(run.number)
        self._relegend()

    def remove_run(self, number: int) -> None:
        if number in self._curves:
            self._curves.pop(number).remove()
            self._runs.pop(number, None)
            self._dirty.add(-1)  # redraw gradients and hint for the new focus
            self._relegend()

    def remove_all(self) -> None:
        for number in list(self._curves):
            self._curves.pop(number).remove()
        self._runs.clear()
        self._clear_grads()
        self.hint.hide()
        self._relegend()

    def run_changed(self, number: int) -> None:
        """New data in a run; drawn on the next timer tick, not now."""
        self._dirty.add(number)

    def set_run_visible(self, number: int, on: bool) -> None:
        run = self._runs.get(number)
        if run is None:
            return
        run.visible = on
        self._curves[number].set_visible(on)
        self._dirty.add(number)
        self._relegend()

    def focus_run(self) -> RunRecord | None:
        """The newest visible run: its gradient norms and hint are shown."""
        visible = [r for r in self._runs.values() if r.visible]
        return max(visible, key=lambda r: r.number) if visible else None

    # -- drawing -----------------------------------------------------------------------
    @Slot()
    def _redraw(self) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        percent = self.metric_name == "accuracy"
        for number in dirty:
            run = self._runs.get(number)
            if run is not None and run.visible:
                self._curves[number].update(run, percent)
        self._fit_lr()
        focus = self.focus_run()
        self._update_grads(focus)
        self._update_hint(focus)
        self.redraws += 1

    def flush(self) -> None:
        """Draw pending data now (end of a run, screenshots, tests)."""
        self._redraw()

    def _update_grads(self, run: RunRecord | None) -> None:
        number = run.number if run else None
        if number != self._grad_run or (run and len(run.grads) != len(self._grad_items)):
            self._clear_grads()
            self._grad_run = number
            if run is not None:
                keys = []
                for i, layer in enumerate(_layer_order(run.grads)):
                    colour = LAYER_COLOURS[i % len(LAYER_COLOURS)]
                    self._grad_items.append((layer, self.grads.plot(pen=pg.mkPen(colour, width=1.5))))
                    keys.append(f"<span style='color:{colour}'>━</span>&nbsp;{layer}")
                # A legend under the plot, not inside it, so it never hides a curve.
                self.grads_key.setText("&nbsp;&nbsp; ".join(keys))
        if run is None:
            return
        for layer, item in self._grad_items:
            s = run.grads[layer]
            norms = s.col("norm")
            ok = norms > 0  # log scale: zero norms (dead layers) cannot be drawn
            item.setData(s.col("x")[ok], np.log10(norms[ok]))

    def _clear_grads(self) -> None:
        for _layer, item in self._grad_items:
            self.grads.removeItem(item)
        self._grad_items = []
        self._grad_run = None
        self.grads_key.clear()

    def _update_hint(self, run: RunRecord | None) -> None:
        text = overfitting_hint(list(run.epoch_column("train_loss")), list(run.epoch_column("val_loss"))) \
            if run else ""
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def _relegend(self) -> None:
        """Only the newest visible run's raw batch loss is drawn: several faint
        noisy curves on top of each other read as dirt, not data."""
        focus = self.focus_run()
        for number, curves in self._curves.items():
            curves.loss_raw.setVisible(focus is not None and number == focus.number)

    def _fit_lr(self) -> None:
        """A constant learning rate would autorange to ±something around it;
        show it from 0 so a schedule's shape and scale read at a glance."""
        top = 0.0
        for run in self._runs.values():
            if run.visible and run.batches.n:
                top = max(top, float(np.nanmax(run.batches.col("lr"))))
        if top > 0:
            self.lr.getPlotItem().setYRange(0, top * 1.15, padding=0)


def _layer_order(names) -> list[str]:
    """conv2d2 before conv2d10; graph order is unknown here, names are good enough."""
    return sorted(names, key=lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)])


def colour_icon(colour: str, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(colour))
    return QIcon(pm)


class RunList(QListWidget):
    """The project's runs with a checkbox each to show or hide its curves."""

    visibility_changed = Signal(int, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setIconSize(QSize(12, 12))
        self.setToolTip("Runs of this project. Untick a run to hide its curves.")
        self.itemChanged.connect(self._on_item_changed)

    def set_runs(self, runs: list[RunRecord]) -> None:
        self.blockSignals(True)
        self.clear()
        for run in runs:
            self._add(run)
        self.blockSignals(False)

    def add_run(self, run: RunRecord) -> None:
        self.blockSignals(True)
        self._add(run)
        self.blockSignals(False)
        self.scrollToBottom()

    def _add(self, run: RunRecord) -> None:
        item = QListWidgetItem(colour_icon(run.colour), run.label())
        item.setToolTip(run.tooltip())
        item.setData(Qt.UserRole, run.number)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Checked if run.visible else Qt.Unchecked)
        self.addItem(item)

    def update_run(self, run: RunRecord) -> None:
        for i in range(self.count()):
            item = self.item(i)
            if item.data(Qt.UserRole) == run.number:
                self.blockSignals(True)
                item.setText(run.label())
                item.setToolTip(run.tooltip())
                self.blockSignals(False)

    def remove_run(self, number: int) -> None:
        for i in range(self.count()):
            if self.item(i).data(Qt.UserRole) == number:
                self.takeItem(i)
                return

    @Slot(QListWidgetItem)
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self.visibility_changed.emit(int(item.data(Qt.UserRole)), item.checkState() == Qt.Checked)
