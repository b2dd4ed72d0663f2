"""The dataset and training settings form, bound to `project.data` / `project.train`.

Every edit goes through an undo command on the window's undo stack, so it marks
the document dirty and Ctrl+Z takes it back, as for graph edits; consecutive
edits of one field merge into one command.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoCommand, QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QSpinBox,
                               QVBoxLayout, QWidget)

from studio.settings import AMP, OPTIMIZERS, SCHEDULES, SettingsError, check

from studio.ui.run.dataset_section import DatasetSection
from studio.ui.run.precheck import device_choices

LABELS = {"lr": "learning rate", "batch_size": "batch size", "weight_decay": "weight decay",
          "augment_crop": "crop padding", "augment_flip": "flips", "val_split": "validation split"}


class SetSettingCommand(QUndoCommand):
    """Set project.<section>.<key>; undo restores the old value."""
    ID = 0x5e77

    def __init__(self, form: "RunSettingsForm", section: str, key: str, old, new):
        super().__init__(f"Change {LABELS.get(key, key.replace('_', ' '))}")
        self.form, self.section, self.key, self.old, self.new = form, section, key, old, new

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetSettingCommand) or (other.section, other.key) != (self.section, self.key):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.form.apply(self.section, self.key, self.new)

    def undo(self) -> None:
        self.form.apply(self.section, self.key, self.old)


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


class RunSettingsForm(QWidget):
    dataset_loaded = Signal(object)    # a Dataset, from Download/Preview
    applied = Signal(str, str)         # section, key: a setting changed (edit, undo or redo)

    def __init__(self, undo_stack=None, parent=None):
        super().__init__(parent)
        self.project = None
        self.undo_stack = undo_stack
        self._widgets: dict[tuple[str, str], QWidget] = {}

        self.follow_dataset = None  # dataset key -> QUndoCommand | None, pushed with the choice
        self.data = DatasetSection(self)
        self.data.loaded.connect(self.dataset_loaded)
        # Kept as attributes of the form: callers and tests reach them here.
        self._data_form = self.data.rows
        for name in ("dataset", "root", "path", "target", "root_row", "path_row", "load_message",
                     "preview_button", "download", "load_bar"):
            setattr(self, name, getattr(self.data, name))

        # -- training -----------------------------------------------------------------
        train_box = QGroupBox("Training")
        tf = QFormLayout(train_box)
        tf.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        tf.addRow("Optimizer", self._choice("train", "optimizer", [(o, o.upper() if len(o) < 5 else o.title())
                                                                   for o in OPTIMIZERS]))
        tf.addRow("Learning rate", self._sci("train", "lr", 0.0, 1e9))
        tf.addRow("Momentum", self._float("train", "momentum", 0.0, 1.0, 0.05, 3))
        tf.addRow("Schedule", self._choice("train", "schedule", [(s, s.title()) for s in SCHEDULES]))
        tf.addRow("Step every", self._int("train", "step_size", 1, 100000, tip="Epochs between decays (Step)"))
        tf.addRow("Decay factor", self._float("train", "gamma", 0.0, 10.0, 0.05, 3))
        tf.addRow("Batch size", self._int("train", "batch_size", 1, 1 << 20))
        tf.addRow("Epochs", self._int("train", "epochs", 0, 100000))
        tf.addRow("Weight decay", self._sci("train", "weight_decay", 0.0, 10.0))
        tf.addRow("L1", self._sci("train", "l1", 0.0, 10.0))
        tf.addRow("Gradient clip", self._sci("train", "grad_clip", 0.0, 1e9))
        tf.addRow("Label smoothing", self._float("train", "label_smoothing", 0.0, 0.99, 0.05, 2))
        tf.addRow("Early stopping", self._int("train", "early_stopping", 0, 100000, special="off",
                                              tip="Stop after N epochs without a better validation score"))
        tf.addRow("Seed", self._int("train", "seed", 0, 2**31 - 1))
        tf.addRow("Device", self._choice("train", "device", device_choices()))
        tf.addRow("Mixed precision", self._choice("train", "amp", [(a, {"off": "Off"}.get(a, a)) for a in AMP]))
        tf.addRow("", self._check("train", "tensorboard", "TensorBoard log"))
        self._widgets[("train", "tensorboard")].setToolTip(
            "Write TensorBoard event files into the run's folder (tensorboard/): open with "
            "`tensorboard --logdir <project>.runs`")

        self._widgets[("train", "grad_clip")].setToolTip("Maximum gradient norm (0 = off): tames exploding losses")
        self._train_form = tf
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.data)
        layout.addWidget(train_box)
        layout.addStretch(1)

    # -- binding ------------------------------------------------------------------------
    def set_project(self, project) -> None:
        self.project = project
        self.refresh()

    def refresh(self) -> None:
        if self.project is None:
            return
        for (section, key), w in self._widgets.items():
            self._show(w, getattr(self._section(section), key))
        d = self.project.data
        for key in ("root", "path", "target", "dataset"):
            self.data.show_text(key, getattr(d, key))
        self._update_visibility()

    def _section(self, section: str):
        return self.project.data if section == "data" else self.project.train

    def set_value(self, section: str, key: str, value) -> None:
        """A user edit: validated, then applied through the undo stack."""
        if self.project is None:
            return
        target = self._section(section)
        old = getattr(target, key)
        try:
            value = check(type(target), key, value, section)
        except SettingsError as e:
            self.load_message.setText(str(e))
            self._show(self._widgets.get((section, key)), old)
            return
        if value == old:
            return
        cmd = SetSettingCommand(self, section, key, old, value)
        # Choosing a dataset also fits the Input node to it: one undo step for both.
        follow = self.follow_dataset(value) if key == "dataset" and self.follow_dataset else None
        if self.undo_stack is None:
            for c in (cmd, follow):
                if c is not None:
                    c.redo()
        elif follow is None:
            self.undo_stack.push(cmd)
        else:
            self.undo_stack.beginMacro(cmd.text())
            self.undo_stack.push(cmd)
            self.undo_stack.push(follow)
            self.undo_stack.endMacro()

    def apply(self, section: str, key: str, value) -> None:
        """Set the value and show it (from the undo command, both directions)."""
        if self.project is None:
            return
        setattr(self._section(section), key, value)
        w = self._widgets.get((section, key))
        if w is not None:
            self._show(w, value)
        elif key in ("root", "path", "target", "dataset"):
            self.data.show_text(key, value)
        self._update_visibility()
        self.applied.emit(section, key)

    @staticmethod
    def _show(w, value) -> None:
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

    # -- widget factories ----------------------------------------------------------------
    def _bind(self, section, key, w, signal, tip=""):
        self._widgets[(section, key)] = w
        if tip:
            w.setToolTip(tip)
        signal.connect(lambda v, s=section, k=key: self.set_value(s, k, v))  # GUI thread only
        return w

    def _int(self, section, key, lo, hi, special="", tip=""):
        w = QSpinBox()
        w.setRange(lo, hi)
        w.setKeyboardTracking(False)
        if special:
            w.setSpecialValueText(special)
        return self._bind(section, key, w, w.valueChanged, tip)

    def _float(self, section, key, lo, hi, step, decimals):
        w = QDoubleSpinBox()
        w.setRange(lo, hi)
        w.setSingleStep(step)
        w.setDecimals(decimals)
        w.setKeyboardTracking(False)
        return self._bind(section, key, w, w.valueChanged)

    def _sci(self, section, key, lo, hi):
        w = SciSpinBox(lo, hi)
        w.setKeyboardTracking(False)
        return self._bind(section, key, w, w.valueChanged)

    def _check(self, section, key, text):
        w = QCheckBox(text)
        return self._bind(section, key, w, w.toggled)

    def _choice(self, section, key, items):
        w = QComboBox()
        for item in items:
            value, label = item[0], item[1]
            w.addItem(label, value)
            if len(item) > 2 and not item[2]:  # listed, not selectable (e.g. a second GPU)
                w.model().item(w.count() - 1).setEnabled(False)
        self._widgets[(section, key)] = w
        w.activated.connect(lambda i, s=section, k=key, c=w: self.set_value(s, k, c.itemData(i)))
        return w

    # -- fields that depend on other settings --------------------------------------------
    def _update_visibility(self) -> None:
        if self.project is None:
            return
        self.data.update_visibility(self.project.data)
        t = self.project.train
        self._train_form.setRowVisible(self._widgets[("train", "momentum")], t.optimizer in ("sgd", "rmsprop"))
        for key in ("step_size", "gamma"):
            self._train_form.setRowVisible(self._widgets[("train", key)], t.schedule == "step")

    def load_preview(self) -> None:
        self.data.load_preview()

    def shutdown(self) -> None:
        self.data.shutdown()
