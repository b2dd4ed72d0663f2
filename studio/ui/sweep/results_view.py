"""A sweep's results: a sortable table of trials, every trial's validation
curve overlaid, value against cost with the Pareto front, optuna's parameter
importance, and "Open as project" for the selected trial."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSplitter,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from studio.sweep.results import SweepResults, TrialRow, pareto_front, read_curve

from studio.ui.run.history import RUN_COLOURS

STATE_COLOURS = {"complete": None, "pruned": "#9a9a9a", "failed": "#D55E00", "running": "#0072B2"}


def _human(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:g}"


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


class _Num(QTableWidgetItem):
    """A cell that sorts by number, shown as text (empty cells sort last)."""

    def __init__(self, value, text: str | None = None):
        super().__init__(text if text is not None else ("" if value is None else _fmt(value)))
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other) -> bool:
        a, b = self.value, getattr(other, "value", None)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a < b
        return str(a) < str(b) if a is not None and b is not None else b is None and a is not None


def _plot(title: str, x: str, y: str) -> pg.PlotWidget:
    w = pg.PlotWidget()
    w.setTitle(title)
    w.setLabel("bottom", x)
    w.setLabel("left", y)
    w.showGrid(x=True, y=True, alpha=0.2)
    w.setMinimumHeight(160)
    pal = w.palette()
    w.setBackground(pal.color(QPalette.ColorRole.Base))
    return w


class SweepResultsView(QWidget):
    open_requested = Signal(str)      # a trial's project file

    def __init__(self, parent=None):
        super().__init__(parent)
        self.results: SweepResults | None = None
        self.importance: dict[str, float] = {}
        self.table = QTableWidget(0, 0)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemDoubleClicked.connect(self._on_double_click)
        self.open_button = QPushButton("Open as project")
        self.open_button.setToolTip("Open the selected trial's exact graph, settings and seed")
        self.open_button.clicked.connect(self.open_selected)
        self.summary = QLabel()
        self.summary.setProperty("role", "muted")
        self.summary.setWordWrap(True)
        self.curves = _plot("Validation curves, all trials", "epoch", "value")
        self.scatter = _plot("Value against cost (Pareto front joined)", "mult-adds per example", "value")
        self.scatter.setLogMode(x=True, y=False)
        self.importance_plot = _plot("Parameter importance (optuna, fANOVA)", "share of the variance (%)", "")
        self.importance_plot.showGrid(x=True, y=False)
        self.importance_plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.curves.addLegend(offset=(-10, 10))
        self.charts = QTabWidget()
        self.charts.addTab(self.curves, "Curves")
        self.charts.addTab(self.scatter, "Accuracy vs cost")
        self.charts.addTab(self.importance_plot, "Importance")

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.open_button)
        lv.addLayout(top)
        lv.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.charts)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self._update_buttons()

    # -- data ---------------------------------------------------------------------------
    def show_results(self, results: SweepResults | None, importance: dict | None = None) -> None:
        self.results = results
        if importance is not None:
            self.importance = importance
        self._fill_table()
        self._draw_curves()
        self._draw_scatter()
        self._draw_importance()
        self._update_buttons()

    def value_name(self) -> str:
        r = self.results
        if r is None or not r.rows:
            return "value"
        metric = next((row.metric_name for row in r.rows if row.metric_name), "accuracy")
        return "val accuracy" if metric == "accuracy" and r.maximize else "val MAE" if metric == "mae" and \
            not r.maximize else "val loss"

    def _fill_table(self) -> None:
        t, r = self.table, self.results
        t.setSortingEnabled(False)
        t.clearContents()
        if r is None:
            t.setRowCount(0)
            t.setColumnCount(0)
            self.summary.setText("No sweep yet: mark parameters with ⚲, then Run sweep.")
            return
        keys = r.keys()
        heads = ["Trial", "State", self.value_name(), *keys, "Params", "Mult-adds", "Epochs", "Seconds"]
        t.setColumnCount(len(heads))
        t.setHorizontalHeaderLabels(heads)
        t.setRowCount(len(r.rows))
        best = r.best()
        for i, row in enumerate(r.rows):
            state = row.state + (" (stopped)" if row.interrupted else "")
            cells = [_Num(row.number), QTableWidgetItem(state),
                     _Num(row.value, self._value_text(row.value))]
            cells += [_Num(row.params.get(k)) for k in keys]
            cells += [_Num(row.cost.get("params"), _human(row.cost["params"]) if "params" in row.cost else ""),
                      _Num(row.cost.get("macs"), _human(row.cost["macs"]) if "macs" in row.cost else ""),
                      _Num(row.epochs), _Num(row.seconds)]
            tip = row.message or row.folder
            cells[0].setData(Qt.ItemDataRole.DecorationRole, QColor(self._colour(row)))  # as in the curves
            for c, item in enumerate(cells):
                item.setData(Qt.ItemDataRole.UserRole, row.number)
                item.setToolTip(tip)
                if best is not None and row.number == best.number:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                colour = STATE_COLOURS.get(row.state)
                if colour:
                    item.setForeground(QColor(colour))
                t.setItem(i, c, item)
        t.setSortingEnabled(True)
        counts = {}
        for row in r.rows:
            counts[row.state] = counts.get(row.state, 0) + 1
        text = ", ".join(f"{n} {s}" for s, n in counts.items())
        if best is not None:
            text += f" · best: trial {best.number}, {self.value_name()} {self._value_text(best.value)}"
        self.summary.setText(text)

    def _value_text(self, v) -> str:
        if v is None:
            return ""
        return f"{v * 100:.1f}%" if self.value_name() == "val accuracy" else f"{v:.4g}"

    def _draw_curves(self) -> None:
        p = self.curves
        p.clear()
        r = self.results
        if r is None:
            return
        best = r.best()
        column = "val_loss" if self.value_name() == "val loss" else "val_metric"
        p.setLabel("left", self.value_name())
        for i, row in enumerate(r.rows):
            if not row.folder:
                continue
            x, y = read_curve(row.folder, column)
            if not len(x):
                continue
            if self.value_name() == "val accuracy":
                y = y * 100
            is_best = best is not None and row.number == best.number
            colour = QColor(self._colour(row))
            pen = pg.mkPen(colour, width=3 if is_best else 1.2,
                           style=Qt.PenStyle.DashLine if row.state == "pruned" else Qt.PenStyle.SolidLine)
            p.plot(x, y, pen=pen, name=f"trial {row.number}")

    @staticmethod
    def _colour(row: TrialRow) -> str:
        return STATE_COLOURS["pruned"] if row.state == "pruned" else RUN_COLOURS[row.number % len(RUN_COLOURS)]

    def _draw_scatter(self) -> None:
        p = self.scatter
        p.clear()
        r = self.results
        if r is None:
            return
        # Against the cost the sweep minimises, else mult-adds.
        cost = "params" if r.cost == "params" else "macs"
        done = [row for row in r.rows if row.state == "complete" and row.value is not None
                and row.cost.get(cost)]
        if not done:
            return
        scale = 100 if self.value_name() == "val accuracy" else 1
        xs = np.array([row.cost[cost] for row in done], dtype=float)
        ys = np.array([row.value * scale for row in done])
        p.setLabel("left", self.value_name())
        p.setLabel("bottom", "parameters" if cost == "params" else "mult-adds per example")
        p.plot(xs, ys, pen=None, symbol="o", symbolSize=8, symbolBrush=pg.mkBrush(120, 120, 120, 160),
               symbolPen=None)
        front = pareto_front([(row.value, row.cost[cost]) for row in done], r.maximize)
        self.front_numbers = [done[i].number for i in front]
        p.plot(xs[front], ys[front], pen=pg.mkPen("#E69F00", width=2), symbol="o", symbolSize=11,
               symbolBrush=pg.mkBrush("#E69F00"), symbolPen=pg.mkPen("#8a5a00"))
        for i in front:
            label = pg.TextItem(f"#{done[i].number}", anchor=(0, 1), color="#8a5a00")
            label.setPos(math.log10(xs[i]), ys[i])
            p.addItem(label)

    def _draw_importance(self) -> None:
        p = self.importance_plot
        p.clear()
        if not self.importance:
            p.getAxis("left").setTicks([[]])
            return
        items = sorted(self.importance.items(), key=lambda kv: kv[1])
        ys = np.arange(len(items))
        bars = pg.BarGraphItem(x0=np.zeros(len(items)), y=ys, height=0.6,
                               width=np.array([v * 100 for _, v in items]), brush="#0072B2")
        p.addItem(bars)
        p.getAxis("left").setTicks([[(float(i), k) for i, (k, _) in enumerate(items)]])

    # -- selection and opening --------------------------------------------------------------
    def selected_row(self) -> TrialRow | None:
        items = self.table.selectedItems()
        if not items or self.results is None:
            return None
        number = items[0].data(Qt.ItemDataRole.UserRole)
        return next((r for r in self.results.rows if r.number == number), None)

    def select_trial(self, number: int) -> None:
        for i in range(self.table.rowCount()):
            if self.table.item(i, 0).data(Qt.ItemDataRole.UserRole) == number:
                self.table.selectRow(i)
                return

    @Slot()
    def _on_selection(self) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected_row()
        self.open_button.setEnabled(row is not None and row.project_file is not None)

    @Slot(QTableWidgetItem)
    def _on_double_click(self, _item) -> None:
        self.open_selected()

    @Slot()
    def open_selected(self) -> None:
        row = self.selected_row()
        if row is not None and row.project_file is not None:
            self.open_requested.emit(str(row.project_file))
