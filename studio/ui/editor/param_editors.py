"""Typed editors generated from a layer's Param schema.

Each editor shows one value and calls `on_commit(value)` when the user
finishes an edit (Enter, focus out, an arrow step, a toggle), never while
the value is being set programmatically. The inspector decides what a
commit means (an undoable SetParam)."""
from __future__ import annotations

import math
import re
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox,
                               QLineEdit, QSpinBox, QWidget)

from studio.graph.spec import Param, hw, hw_text

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int


class FloatSpin(QDoubleSpinBox):
    """A float spin box that shows 0.001 or 1e-05 rather than 0.001000."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setDecimals(12)  # keep precision; textFromValue keeps the display short
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip().replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator
        t = text.strip().replace(",", ".")
        if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", t):
            v = float(t)
            if self.minimum() <= v <= self.maximum():
                return QValidator.State.Acceptable, text, pos
        if re.fullmatch(r"[-+]?\d*\.?\d*([eE][-+]?\d*)?", t):
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos


def parse_ints(text: str) -> list[int]:
    """'-1, 28, 28' or '-1×28×28' -> [-1, 28, 28]; ValueError says what is wrong."""
    parts = [p for p in re.split(r"[,\s×xX*]+", text.strip()) if p]
    if not parts:
        raise ValueError("enter whole numbers separated by commas, e.g. -1, 28, 28")
    out = []
    for p in parts:
        try:
            out.append(int(p))
        except ValueError:
            raise ValueError(f"{p!r} is not a whole number") from None
    return out


def parse_size2(text: str) -> int | tuple[int, int]:
    """'3' -> 3; '1×7', '1x7', '1,7' or '1 7' -> (1, 7) as height, width; ValueError says what is wrong."""
    if not text.strip():
        raise ValueError("enter a size like 3, or height×width like 1×7")
    parts = re.split(r"\s*[,×xX*]\s*|\s+", text.strip())
    if len(parts) > 2 or "" in parts:
        raise ValueError(f"enter one whole number like 3, or height×width like 1×7, not {text.strip()!r}")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        bad = next(p for p in parts if not re.fullmatch(r"[-+]?\d+", p))
        raise ValueError(f"{bad!r} is not a whole number: enter a size like 3 or 1×7") from None
    return nums[0] if len(nums) == 1 else (nums[0], nums[1])


class SizeSpin(QAbstractSpinBox):
    """A size typed as "3" or "1×7" (a spin box holds one number, not a pair), with the
    arrows, Up/Down and the wheel stepping a square size, or both sides of a pair,
    within the parameter's range, as the other number fields do."""

    stepped = Signal()

    def __init__(self, lo: int, hi: int) -> None:
        super().__init__()
        self._lo, self._hi = lo, hi
        self.setKeyboardTracking(False)

    def text(self) -> str:
        return self.lineEdit().text()

    def setText(self, text: str) -> None:
        self.lineEdit().setText(text)

    def _sides(self) -> tuple[int, int] | None:
        try:
            return hw(parse_size2(self.text()))
        except ValueError:
            return None

    def stepEnabled(self):
        sides, flags = self._sides(), QAbstractSpinBox.StepEnabledFlag.StepNone
        if sides is not None and not self.isReadOnly():
            if max(sides) < self._hi:
                flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
            if min(sides) > self._lo:
                flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def stepBy(self, steps: int) -> None:
        sides = self._sides()
        if sides is None:
            return
        h, w = (min(self._hi, max(self._lo, v + steps)) for v in sides)
        self.setText(hw_text((h, w)))
        self.stepped.emit()  # an arrow step commits at once, like a spin box's


def format_value(param: Param, value: Any) -> str:
    if param.kind == "size2":
        return hw_text(value)
    if param.kind == "ints":
        return ", ".join(str(v) for v in value)
    if param.kind == "float":
        return f"{value:.6g}"
    return str(value)


class ParamEditor:
    """Wraps one widget; `set_value` never triggers `on_commit`."""

    def __init__(self, param: Param, on_commit: Callable[[Any], None]) -> None:
        self.param = param
        self.on_commit = on_commit
        self._quiet = False
        self.widget: QWidget = self._build()
        self.widget.setToolTip(param.help)
        self.widget.setObjectName(f"param_{param.name}")

    def _build(self) -> QWidget:
        p, k = self.param, self.param.kind
        if k == "int":
            w = QSpinBox()
            w.setRange(int(max(p.minimum if p.minimum is not None else -INT_LIMIT, -INT_LIMIT)),
                       int(min(p.maximum if p.maximum is not None else INT_LIMIT, INT_LIMIT)))
            w.setKeyboardTracking(False)  # commit on Enter/focus-out, not per keystroke
            w.setAccelerated(True)
            w.setGroupSeparatorShown(w.maximum() >= 100000)
            w.valueChanged.connect(self._emit)
        elif k == "float":
            w = FloatSpin()
            w.setRange(p.minimum if p.minimum is not None else -1e12,
                       p.maximum if p.maximum is not None else 1e12)
            w.setKeyboardTracking(False)
            if p.maximum is not None and p.minimum is not None and p.maximum - p.minimum <= 1:
                w.setSingleStep(0.05)  # probabilities and rates: 0.05 per arrow click
                w.setStepType(QAbstractSpinBox.StepType.DefaultStepType)
            w.valueChanged.connect(self._emit)
        elif k == "bool":
            w = QCheckBox(p.title)
            w.toggled.connect(self._emit)
        elif k == "choice":
            w = QComboBox()
            for c in p.choices:
                w.addItem(c.replace("_", " "), c)
            w.activated.connect(lambda _i: self._emit())
        elif k == "ints":
            w = QLineEdit()
            w.setProperty("role", "field")
            w.setPlaceholderText("e.g. -1, 28, 28")
            w.editingFinished.connect(self._emit)
        elif k == "size2":  # typed: "3" (square) or "1×7"
            w = SizeSpin(int(p.minimum if p.minimum is not None else 0),
                         int(p.maximum if p.maximum is not None else INT_LIMIT))
            w.lineEdit().setPlaceholderText("e.g. 3 or 1×7")
            w.lineEdit().setMaxLength(40)
            w.editingFinished.connect(self._emit)
            w.stepped.connect(self._emit)
        elif k == "text":  # a name; or an import's reference: shown, not edited
            w = QLineEdit()
            w.setProperty("role", "field")
            w.setReadOnly(not p.editable)
            if p.editable:
                w.setMaxLength(200)
                w.editingFinished.connect(self._emit)
        else:
            raise ValueError(f"unknown parameter kind {k}")
        if isinstance(w, (QAbstractSpinBox, QComboBox)):
            w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # wheel over an unfocused box scrolls the panel
        return w

    def value(self) -> Any:
        w, k = self.widget, self.param.kind
        if k in ("int", "float"):
            return w.value()
        if k == "bool":
            return w.isChecked()
        if k == "choice":
            return w.currentData()
        if k == "text":
            if self.param.editable and not w.text().strip():
                raise ValueError(f"{self.param.title} cannot be empty")
            return w.text().strip()
        if k == "size2":
            return parse_size2(w.text())
        return parse_ints(w.text())

    def set_value(self, value: Any) -> None:
        self._quiet = True
        try:
            w, k = self.widget, self.param.kind
            w.blockSignals(True)
            if k in ("int", "float"):
                w.setValue(value)
            elif k == "bool":
                w.setChecked(bool(value))
            elif k == "choice":
                w.setCurrentIndex(max(0, w.findData(value)))
            else:
                w.setText(format_value(self.param, value))
            w.blockSignals(False)
        finally:
            self._quiet = False

    def set_invalid(self, invalid: bool) -> None:
        self.widget.setProperty("invalid", invalid)
        self.widget.style().unpolish(self.widget)
        self.widget.style().polish(self.widget)

    def _emit(self, *_args) -> None:
        if self._quiet:
            return
        try:
            value = self.value()
        except ValueError as e:
            self.on_commit(e)  # the inspector shows the message
            return
        if self.param.kind == "float" and isinstance(value, float) and not math.isfinite(value):
            self.on_commit(ValueError(f"{self.param.title} must be a finite number"))
            return
        self.on_commit(value)
