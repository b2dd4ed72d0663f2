"""Editors for single settings: each widget is bound to one (section, key) of
the project, turns the user's change into an undo command (ui/run/commands.py)
and shows the project's value when the form tells it to (it follows the
project's events). The settings form and its Dataset group both build their
fields here."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from studio.settings import SettingsError, check

from studio.ui.run.commands import setting_edit


class SciSpinBox(QDoubleSpinBox):
    """A spin box for values spanning decades (learning rate, decay): shows 3e-4
    rather than 0.000300, and the arrows step by a factor rather than by 0.01."""

    def __init__(self, lo: float, hi: float, parent=None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(lo, hi)

    def textFromValue(self, v: float) -> str:
        return f"{v:g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        try:
            v = float(text)
            return (QValidator.Acceptable if self.minimum() <= v <= self.maximum() else QValidator.Intermediate,
                    text, pos)
        except ValueError:
            return QValidator.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        v = self.value() or 1e-4
        self.setValue(v * (10 ** (steps / 3)))


class SettingFields(QObject):
    """The widgets bound to settings, and the one way a user edit reaches the project."""
    rejected = Signal(str)     # why a typed value was not taken

    def __init__(self, undo_stack=None, known=None, parent=None):
        super().__init__(parent)
        self.project = None
        self.undo_stack = undo_stack
        self.known = known          # datafit.KnownShapes: what a dataset choice fits the Input to
        self.widgets: dict[tuple[str, str], QWidget] = {}

    def widget(self, section: str, key: str) -> QWidget:
        return self.widgets[(section, key)]

    # -- edits ------------------------------------------------------------------------
    def edit(self, section: str, key: str, value) -> None:
        """A user edit: checked, then applied through the undo stack."""
        project = self.project
        if project is None:
            return
        old = project.setting(section, key)
        try:
            value = check(type(project.section(section)), key, value, section)
        except SettingsError as e:
            self.rejected.emit(str(e))
            self.show(section, key, old)
            return
        if value == old:
            return
        cmd = setting_edit(project, section, key, value, self.known)
        if self.undo_stack is None:
            cmd.redo()
        else:
            self.undo_stack.push(cmd)

    def show(self, section: str, key: str, value) -> None:
        """Show `value` in the field without it counting as an edit."""
        w = self.widgets.get((section, key))
        if w is None:
            return
        w.blockSignals(True)
        if isinstance(w, QComboBox):
            w.setCurrentIndex(max(0, w.findData(value)))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        else:
            w.setValue(value)
        w.blockSignals(False)

    def show_all(self) -> None:
        if self.project is not None:
            for (section, key) in self.widgets:
                self.show(section, key, self.project.setting(section, key))

    # -- factories ----------------------------------------------------------------------
    def _bind(self, section, key, w, signal, tip=""):
        self.widgets[(section, key)] = w
        if tip:
            w.setToolTip(tip)
        signal.connect(lambda v, s=section, k=key: self.edit(s, k, v))  # GUI thread only
        return w

    def int_field(self, section, key, lo, hi, special="", tip="") -> QSpinBox:
        w = QSpinBox()
        w.setRange(lo, hi)
        w.setKeyboardTracking(False)
        if special:
            w.setSpecialValueText(special)
        return self._bind(section, key, w, w.valueChanged, tip)

    def float_field(self, section, key, lo, hi, step, decimals) -> QDoubleSpinBox:
        w = QDoubleSpinBox()
        w.setRange(lo, hi)
        w.setSingleStep(step)
        w.setDecimals(decimals)
        w.setKeyboardTracking(False)
        return self._bind(section, key, w, w.valueChanged)

    def sci_field(self, section, key, lo, hi) -> SciSpinBox:
        w = SciSpinBox(lo, hi)
        w.setKeyboardTracking(False)
        return self._bind(section, key, w, w.valueChanged)

    def check_field(self, section, key, text, tip="") -> QCheckBox:
        w = QCheckBox(text)
        return self._bind(section, key, w, w.toggled, tip)

    def choice_field(self, section, key, items) -> QComboBox:
        w = QComboBox()
        for item in items:
            value, label = item[0], item[1]
            w.addItem(label, value)
            if len(item) > 2 and not item[2]:  # listed, not selectable (e.g. a second GPU)
                w.model().item(w.count() - 1).setEnabled(False)
        self.widgets[(section, key)] = w
        w.activated.connect(lambda i, s=section, k=key, c=w: self.edit(s, k, c.itemData(i)))
        return w
