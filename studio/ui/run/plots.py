"""Live training curves (pyqtgraph), every run of the project overlaid.

Plot widgets are created once and reused for every run: PySide6 with pyqtgraph
crashed when PlotWidgets were created and destroyed repeatedly.
Data arrives into preallocated numpy arrays (ui/run/history.py: Series); a 10 Hz timer
calls setData only for runs that changed, with clip-to-view and peak
downsampling so a long run still redraws in a few milliseconds.
"""
from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from studio.ui.run.history import RunRecord, overfitting_hint

HINT_STYLE = "color:#8a4b00;background:#fff4e0;border:1px solid #f0c080;border-radius:4px;padding:1px 6px;"
# Below this height the four plots share one row: a short training dock (the
# canvas is the heart of the window) still shows every curve at a readable size.
ONE_ROW_BELOW = 360
PLOT_MIN_W, PLOT_MIN_H = 150, 100
REDRAW_MS = 50   # one of four plots per tick: each plot redraws at most 5×/s
GROUPS = ("loss", "metric", "lr", "grads")
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
    w.setMinimumSize(PLOT_MIN_W, PLOT_MIN_H)
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

    def update(self, run: RunRecord, percent: bool, group: str) -> None:
        """setData for one plot ("loss", "metric" or "lr")."""
        b = run.batches
        x = b.col("x")
        ex = run.epoch_column("epoch")
        if group == "loss":
            self.loss_raw.setData(x, b.col("loss"))
            self.loss.setData(x, b.col("loss_smooth"))
            self.loss_train_ep.setData(ex, run.epoch_column("train_loss"))
            val = run.epoch_column("val_loss")
            self.loss_val_ep.setData(ex[np.isfinite(val)], val[np.isfinite(val)])
        elif group == "metric":
            scale = 100.0 if percent else 1.0
            self.metric.setData(x, b.col("metric_smooth") * scale)
            self.metric_train_ep.setData(ex, run.epoch_column("train_metric") * scale)
            val = run.epoch_column("val_metric")
            self.metric_val_ep.setData(ex[np.isfinite(val)], val[np.isfinite(val)] * scale)
        elif group == "lr":
            self.lr.setData(x, b.col("lr"))

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
        self.grads = _new_plot("Gradient norms", "per layer (log)", log_y=True)  # short: the plot is narrow
        # Line styles are explained once, beside the plots, so no legend hides a curve;
        # the run list explains the colours. Only the layer plot needs its own key.
        # `legend` is placed by the container (next to the run list), so the plots
        # keep the full height of a short dock.
        line = self.fontMetrics().lineSpacing()
        self.key = QLabel("<span style='letter-spacing:-2px'>━━</span> train, smoothed per batch<br>"
                          "● train, per epoch<br>"
                          "<span style='letter-spacing:-1px'>╌▽╌</span> validation, per epoch")
        self.key.setProperty("role", "caption")
        self.grads_key = QLabel()
        self.grads_key.setWordWrap(True)
        self.grads_key.setProperty("role", "caption")
        self.grads_key.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.grads_key.setToolTip("Layers in the gradient-norm plot")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        # Heights reserved up front: filling these must not resize the plots (see run_checkbar).
        self.grads_key.setFixedHeight(2 * line + 2)
        self.hint.setFixedHeight(2 * line + 2)
        for label in (self.grads_key, self.hint):
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.legend = _FixedLegend()
        lv = QVBoxLayout(self.legend)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(0)
        for label in (self.key, self.grads_key, self.hint):
            lv.addWidget(label)

        self._grid = grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        self._cells = (self.loss, self.metric, self.lr, self.grads)
        self.one_row: bool | None = None
        self.arrange(one_row=True)
        self.apply_palette(self.palette())

        self.metric_name = "accuracy"
        self._runs: dict[int, RunRecord] = {}
        self._curves: dict[int, _RunCurves] = {}
        self._grad_items: list = []
        self._grad_run: int | None = None
        self._dirty: dict[str, set[int]] = {g: set() for g in GROUPS}
        self._turn = 0
        self.redraws = 0
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    # -- layout ------------------------------------------------------------------------
    def arrange(self, one_row: bool) -> None:
        """Four plots in one row (short dock) or two by two (tall dock); the
        container decides, from the height it can show without scrolling."""
        if one_row == self.one_row:
            return
        self.one_row = one_row
        for w in self._cells:
            self._grid.removeWidget(w)
        for i, w in enumerate(self._cells):
            self._grid.addWidget(w, 0 if one_row else i // 2, i if one_row else i % 2)
        for i in range(4):  # equal widths and heights whatever the previous arrangement left
            self._grid.setColumnStretch(i, 1 if one_row or i < 2 else 0)
            self._grid.setRowStretch(i, 1 if (i == 0 or not one_row and i < 2) else 0)

    # -- runs -------------------------------------------------------------------------
    def set_metric_name(self, name: str) -> None:
        if name == self.metric_name:
            return  # restyling repaints the plot: only when it changes
        self.metric_name = name
        self.metric.titles = ("Accuracy", "accuracy (%)") if name == "accuracy" else ("Mean absolute error", "MAE")
        pal = self.palette()
        _style_plot(self.metric, pal.base().color(), pal.text().color(), pal.mid().color())
        self._mark(*self._runs)

    def apply_palette(self, pal) -> None:
        bg, fg, mid = pal.base().color(), pal.text().color(), pal.mid().color()
        for w in (self.loss, self.metric, self.lr, self.grads):
            _style_plot(w, bg, fg, mid)

    def add_run(self, run: RunRecord) -> None:
        self._runs[run.number] = run
        self._curves[run.number] = _RunCurves(self, run)
        self._curves[run.number].set_visible(run.visible)
        self._mark(run.number)
        self._relegend()
        self._fit_x()

    def remove_run(self, number: int) -> None:
        if number in self._curves:
            self._curves.pop(number).remove()
            self._runs.pop(number, None)
            self._mark(-1)  # redraw gradients and hint for the new focus
            self._relegend()

    def remove_all(self) -> None:
        for number in list(self._curves):
            self._curves.pop(number).remove()
        self._runs.clear()
        self._clear_grads()
        self._update_hint(None)
        self._relegend()

    def run_changed(self, number: int) -> None:
        """New data in a run; drawn on the next timer ticks, not now."""
        self._mark(number)

    def _mark(self, *numbers: int) -> None:
        for dirty in self._dirty.values():
            dirty.update(numbers)

    def set_run_visible(self, number: int, on: bool) -> None:
        run = self._runs.get(number)
        if run is None:
            return
        run.visible = on
        self._curves[number].set_visible(on)
        self._mark(number)
        self._fit_x()
        self._relegend()

    def focus_run(self) -> RunRecord | None:
        """The newest visible run: its gradient norms and hint are shown."""
        visible = [r for r in self._runs.values() if r.visible]
        return max(visible, key=lambda r: r.number) if visible else None

    # -- drawing -----------------------------------------------------------------------
    @Slot()
    def _redraw(self, groups=None) -> None:
        """One plot per tick, round-robin: Qt paints every dirty widget in one
        pass, and four pyqtgraph plots painted together while the trainer holds
        the GIL stalled the event loop for over 100 ms. One at a time stays short."""
        if groups is None:
            self._turn = (self._turn + 1) % len(GROUPS)
            groups = [GROUPS[self._turn]]
        percent = self.metric_name == "accuracy"
        for group in groups:
            dirty, self._dirty[group] = self._dirty[group], set()
            if not dirty:
                continue
            if group == "grads":
                focus = self.focus_run()
                self._update_grads(focus)
                self._update_hint(focus)
                continue
            for number in dirty:
                run = self._runs.get(number)
                if run is not None and run.visible:
                    self._curves[number].update(run, percent, group)
            self._fit_y(group)
            self.redraws += 1

    def flush(self) -> None:
        """Draw pending data now (end of a run, screenshots, tests)."""
        self._redraw(GROUPS)

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
        logs = []
        for layer, item in self._grad_items:
            s = run.grads[layer]
            norms = s.col("norm")
            ok = norms > 0  # log scale: zero norms (dead layers) cannot be drawn
            logs.append(np.log10(norms[ok]))
            item.setData(s.col("x")[ok], logs[-1])
        self._fit_grads(logs)

    def _clear_grads(self) -> None:
        for _layer, item in self._grad_items:
            self.grads.removeItem(item)
        self._grad_items = []
        self._grad_run = None
        self.grads_key.clear()

    def _update_hint(self, run: RunRecord | None) -> None:
        text = overfitting_hint(list(run.epoch_column("train_loss")), list(run.epoch_column("val_loss"))) \
            if run else ""
        if text != self.hint.text():
            self.hint.setText(text)
            self.hint.setToolTip(text)
            self.hint.setStyleSheet(HINT_STYLE if text else "")

    def _relegend(self) -> None:
        """Only the newest visible run's raw batch loss is drawn: several faint
        noisy curves on top of each other read as dirt, not data."""
        focus = self.focus_run()
        for number, curves in self._curves.items():
            curves.loss_raw.setVisible(focus is not None and number == focus.number)

    # -- ranges: fixed x, sticky y ------------------------------------------------------
    # Autorange changed both axes on every update, and pyqtgraph regenerates an
    # axis (the costliest part of a paint) whenever its range changes. The x axis
    # spans the planned epochs, so it never moves during a run; the y range only
    # moves when the data leave it or shrink to under a third of it.
    def _visible(self):
        return [r for r in self._runs.values() if r.visible]

    def _fit_x(self) -> None:
        top = 1.0
        for run in self._visible():
            top = max(top, float(run.train.get("epochs") or 0), float(run.batches.col("x")[-1:].max(initial=0)))
        for w in (self.loss, self.metric, self.lr, self.grads):
            w.getPlotItem().setXRange(0, top, padding=0.02)

    def _fit_y(self, group: str) -> None:
        runs = self._visible()
        if group == "lr":
            tops = [float(np.nanmax(r.batches.col("lr"))) for r in runs if r.batches.n]
            if tops and max(tops) > 0:  # from 0, so a schedule's shape and scale read at a glance
                _sticky(self.lr, 0.0, max(tops), floor=0.0)
            return
        scale = 100.0 if group == "metric" and self.metric_name == "accuracy" else 1.0
        cols = {"loss": (("loss",), ("train_loss", "val_loss")),
                "metric": (("metric_smooth",), ("train_metric", "val_metric"))}[group]
        values = [r.batches.col(c) for r in runs for c in cols[0]]
        values += [r.epoch_column(c) for r in runs for c in cols[1]]
        values = [v[np.isfinite(v)] for v in values]
        values = [v for v in values if v.size]
        if values:
            _sticky(self.loss if group == "loss" else self.metric,
                    min(float(v.min()) for v in values) * scale, max(float(v.max()) for v in values) * scale)

    def _fit_grads(self, values: list[np.ndarray]) -> None:
        values = [v for v in values if v.size]
        if values:
            _sticky(self.grads, min(float(v.min()) for v in values), max(float(v.max()) for v in values))


class _FixedLegend(QWidget):
    """Its word-wrapped labels have fixed heights; without this their
    height-for-width reached the scroll area around the plots, which then made
    the whole Curves page as tall as the text would be in one narrow column."""

    def hasHeightForWidth(self) -> bool:
        return False


def _sticky(w: pg.PlotWidget, lo: float, hi: float, floor: float | None = None) -> None:
    vb = w.getPlotItem().getViewBox()
    (vlo, vhi) = vb.viewRange()[1]
    span = max(hi - lo, abs(hi) * 1e-3, 1e-12)
    inside = vlo <= lo and hi <= vhi
    if inside and span >= 0.3 * (vhi - vlo) and vb.state["autoRange"][1] is False:
        return
    pad = 0.15 * span
    new_lo = lo - pad if floor is None else floor
    w.getPlotItem().setYRange(new_lo, hi + pad, padding=0)


def _layer_order(names) -> list[str]:
    """conv2d2 before conv2d10; graph order is unknown here, names are good enough."""
    return sorted(names, key=lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)])
