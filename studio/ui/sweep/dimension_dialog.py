"""Mark one parameter or setting as a search dimension: a range (linear or log)
or a list of values. The dialog checks with the same rules as the project file,
so what it accepts always loads again."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QRadioButton, QVBoxLayout)

from studio.project.search_space import Dimension, SearchSpaceError, parse_dimension

# First suggestions for settings people search most.
SETTING_DEFAULTS = {
    ("training", "lr"): ("float", 1e-4, 1e-1, True),
    ("training", "batch_size"): ("int", 16, 256, True),
    ("training", "weight_decay"): ("float", 1e-6, 1e-2, True),
    ("training", "label_smoothing"): ("float", 0.0, 0.2, False),
    ("training", "momentum"): ("float", 0.5, 0.99, False),
    ("data", "augment_crop"): ("int", 0, 4, False),
}


def suggestion(target: str, param: str, kind: str, value, choices=(), lo=None, hi=None) -> dict:
    """A first dimension around the current value, as a project-file dimension dict."""
    if (target, param) in SETTING_DEFAULTS:
        k, low, high, log = SETTING_DEFAULTS[(target, param)]
        return {"kind": k, "low": low, "high": high, "log": log}
    if kind == "bool":
        return {"kind": "choice", "choices": [True, False]}
    if kind in ("choice", "str"):
        return {"kind": "choice", "choices": list(choices) or [value]}
    if kind == "int":
        low, high = max(int(lo) if lo is not None else 1, max(1, value // 4)), max(value * 4, value + 3)
        if hi is not None:
            high = min(high, int(hi))
        return {"kind": "int", "low": low, "high": high, "log": low > 0 and high / low >= 8}
    low = float(lo) if lo is not None else 0.0
    high = float(hi) if hi is not None else max(1.0, value * 10)
    return {"kind": "float", "low": low, "high": high, "log": False}


def _text(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v).lower() if isinstance(v, bool) else str(v)


def _value(text: str):
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            pass
    return t


class DimensionDialog(QDialog):
    """Edit one dimension; `dimension()` is the checked result after accept."""

    def __init__(self, base: dict, start: dict, model, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Search {title}")
        self.base, self.model = base, model          # base: target/node/param
        self.result_dim: Dimension | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Each trial of a sweep tries a value of <b>{title}</b> from:"))
        self.range_button = QRadioButton("a range")
        self.list_button = QRadioButton("a list of values")
        form = QFormLayout()
        self.low, self.high = QLineEdit(), QLineEdit()
        self.log = QCheckBox("log scale (for sizes and rates spanning decades)")
        self.choices = QLineEdit()
        self.choices.setPlaceholderText("comma-separated, e.g. 16, 32, 64")
        form.addRow(self.range_button)
        form.addRow("From", self.low)
        form.addRow("To", self.high)
        form.addRow("", self.log)
        form.addRow(self.list_button)
        form.addRow("Values", self.choices)
        lay.addLayout(form)
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.numeric = start.get("kind") in ("int", "float")
        self.kind = start.get("kind") if self.numeric else "float"
        self.range_button.setEnabled(self.numeric)
        if start.get("kind") == "choice":
            self.list_button.setChecked(True)
            self.choices.setText(", ".join(_text(c) for c in start.get("choices", [])))
        else:
            self.range_button.setChecked(True)
            self.low.setText(_text(start.get("low")))
            self.high.setText(_text(start.get("high")))
            self.log.setChecked(bool(start.get("log")))
            self.choices.setText(", ".join(_text(v) for v in (start.get("low"), start.get("high"))))
        self.range_button.toggled.connect(self._sync)
        self._sync()
        self.setWindowModality(Qt.WindowModality.WindowModal)

    def _sync(self) -> None:
        r = self.range_button.isChecked()
        for w in (self.low, self.high, self.log):
            w.setEnabled(r)
        self.choices.setEnabled(not r)

    def dimension_dict(self) -> dict:
        d = dict(self.base)
        if self.range_button.isChecked():
            d.update(kind=self.kind, low=_value(self.low.text()), high=_value(self.high.text()),
                     log=self.log.isChecked())
        else:
            d.update(kind="choice", choices=[_value(t) for t in self.choices.text().split(",") if t.strip()])
        return d

    def accept(self) -> None:
        try:
            self.result_dim = parse_dimension(self.dimension_dict(), self.model, "search")
        except SearchSpaceError as e:
            self.error.setText(str(e).split(": ", 1)[-1] if ": " in str(e) else str(e))
            return
        super().accept()
