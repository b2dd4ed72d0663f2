"""The dataset and training settings form, bound to `project.data` / `project.train`.

Every edit goes through an undo command on the window's undo stack, so it marks
the document dirty and Ctrl+Z takes it back, as for graph edits; consecutive
edits of one field merge into one command.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QUndoCommand, QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from studio.settings import AMP, OPTIMIZERS, SCHEDULES, SettingsError, check

from .run_precheck import device_choices

DOWNLOADABLE = ("cifar10", "mnist", "fashion_mnist")
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

    def __init__(self, undo_stack=None, parent=None):
        super().__init__(parent)
        self.project = None
        self.undo_stack = undo_stack
        self._widgets: dict[tuple[str, str], QWidget] = {}
        self._loader = None
        self._loading = False

        from studio.data.load import describe_datasets
        self._datasets = {key: (title, text, needs_path, offline)
                          for key, title, text, needs_path, offline in describe_datasets()}

        # -- dataset ------------------------------------------------------------------
        self.dataset = QComboBox()
        for key, (title, _text, _np, offline) in self._datasets.items():
            self.dataset.addItem(title if offline else f"{title} (download)", key)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setStyleSheet("color:#555")
        self.root = QLineEdit()
        self.root.setPlaceholderText("~/.studio/data")
        self.root_browse = QPushButton("…")
        self.download = QPushButton("Download")
        self.download.setToolTip("Download the dataset now (it is also downloaded when training starts)")
        self.path = QLineEdit()
        self.path_browse = QPushButton("…")
        self.target = QLineEdit()
        self.target.setPlaceholderText("last column")
        self.load_bar = QProgressBar()
        self.load_bar.setTextVisible(True)
        self.load_bar.hide()
        self.load_message = QLabel()
        self.load_message.setWordWrap(True)
        self.preview_button = QPushButton("Preview samples")

        data_box = QGroupBox("Dataset")
        df = QFormLayout(data_box)
        df.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        df.addRow(self.dataset)
        df.addRow(self.about)
        self.root_row = _row(self.root, self.root_browse, self.download)
        df.addRow("Folder", self.root_row)
        self.path_row = _row(self.path, self.path_browse)
        df.addRow("Path", self.path_row)
        df.addRow("Target column", self.target)
        df.addRow("Image size", self._int("data", "image_size", 4, 4096))
        df.addRow("Examples", self._int("data", "samples", 10, 10**8, tip="Size of a generated dataset"))
        df.addRow("Use only", self._int("data", "limit", 0, 10**9, special="all",
                                        tip="Train on the first N examples only (0 = all): a quick try"))
        df.addRow("Validation split", self._float("data", "val_split", 0.0, 0.9, 0.05, 2))
        df.addRow("", self._check("data", "use_test_split", "Validate on the test split"))
        df.addRow("Crop padding", self._int("data", "augment_crop", 0, 64, special="off",
                                            tip="Random-crop augmentation: pad by N pixels, crop back"))
        df.addRow("", self._check("data", "augment_flip", "Random horizontal flips"))
        df.addRow(self.load_bar)
        df.addRow(self.load_message)
        df.addRow(self.preview_button)
        self._data_form = df

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

        self._widgets[("train", "grad_clip")].setToolTip("Maximum gradient norm (0 = off): tames exploding losses")
        self._train_form = tf
        self._widgets[("data", "use_test_split")].setToolTip(
            "Use the dataset's own test split for validation when it has one; otherwise the split above")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(data_box)
        layout.addWidget(train_box)
        layout.addStretch(1)

        self.dataset.currentIndexChanged.connect(self._on_dataset_picked)
        self.root.editingFinished.connect(self._on_root_edited)
        self.path.editingFinished.connect(self._on_path_edited)
        self.target.editingFinished.connect(self._on_target_edited)
        self.root_browse.clicked.connect(self._browse_root)
        self.path_browse.clicked.connect(self._browse_path)
        self.download.clicked.connect(self.load_preview)
        self.preview_button.clicked.connect(self.load_preview)

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
        for w, v in ((self.root, d.root), (self.path, d.path), (self.target, d.target)):
            w.setText(v)
        self.dataset.blockSignals(True)
        self.dataset.setCurrentIndex(max(0, self.dataset.findData(d.dataset)))
        self.dataset.blockSignals(False)
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
        if self.undo_stack is not None:
            self.undo_stack.push(cmd)
        else:
            cmd.redo()

    def apply(self, section: str, key: str, value) -> None:
        """Set the value and show it (from the undo command, both directions)."""
        if self.project is None:
            return
        setattr(self._section(section), key, value)
        w = self._widgets.get((section, key))
        if w is not None:
            self._show(w, value)
        elif key in ("root", "path", "target"):
            getattr(self, key).setText(value)
        elif key == "dataset":
            self.dataset.blockSignals(True)
            self.dataset.setCurrentIndex(max(0, self.dataset.findData(value)))
            self.dataset.blockSignals(False)
        self._update_visibility()

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

    # -- dataset-specific fields ----------------------------------------------------------
    @Slot(int)
    def _on_dataset_picked(self, index: int) -> None:
        self.set_value("data", "dataset", self.dataset.itemData(index))

    def _update_visibility(self) -> None:
        if self.project is None:
            return
        key = self.project.data.dataset
        title, text, needs_path, offline = self._datasets.get(key, (key, "", False, True))
        self.about.setText(text)
        f = self._data_form
        f.setRowVisible(self.root_row, key in DOWNLOADABLE)
        f.setRowVisible(self.path_row, needs_path)
        f.setRowVisible(self.target, key == "csv")
        f.setRowVisible(self._widgets[("data", "image_size")], key == "image_folder")
        f.setRowVisible(self._widgets[("data", "samples")], offline and not needs_path)
        t = self.project.train
        self._train_form.setRowVisible(self._widgets[("train", "momentum")], t.optimizer in ("sgd", "rmsprop"))
        for key in ("step_size", "gamma"):
            self._train_form.setRowVisible(self._widgets[("train", key)], t.schedule == "step")
        self.path.setPlaceholderText("a CSV file" if key == "csv" else "a folder with one subfolder per class")
        self.path_browse.setToolTip("Choose the CSV file" if key == "csv" else "Choose the image folder")

    @Slot()
    def _on_root_edited(self) -> None:
        self.set_value("data", "root", self.root.text().strip())

    @Slot()
    def _on_path_edited(self) -> None:
        self.set_value("data", "path", self.path.text().strip())

    @Slot()
    def _on_target_edited(self) -> None:
        self.set_value("data", "target", self.target.text().strip())

    @Slot()
    def _browse_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for downloaded datasets", self.root.text())
        if folder:
            self.set_value("data", "root", folder)

    @Slot()
    def _browse_path(self) -> None:
        start = self.path.text() or str(Path.home())
        if self.project.data.dataset == "csv":
            path, _ = QFileDialog.getOpenFileName(self, "CSV file", start, "CSV files (*.csv);;All files (*)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Image folder (one subfolder per class)", start)
        if path:
            self.set_value("data", "path", path)

    # -- preview / download ----------------------------------------------------------------
    @Slot()
    def load_preview(self) -> None:
        """Load (downloading if needed) in a thread; the preview grid shows the result."""
        from .run_dataload import DatasetLoader
        if self.project is None or self._loader is not None:
            return
        self._loader = DatasetLoader(self.project.data, self)
        self._loader.progress.connect(self._on_load_progress)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_load_failed)
        self._loader.finished.connect(self._on_loader_finished)
        self.load_bar.setRange(0, 0)
        self.load_bar.show()
        self.load_message.setText("Loading…")
        self.download.setEnabled(False)
        self.preview_button.setEnabled(False)
        self._loader.start()

    @Slot(float, str)
    def _on_load_progress(self, fraction: float, message: str) -> None:
        self.load_bar.setRange(0, 1000)
        self.load_bar.setValue(int(fraction * 1000))
        self.load_message.setText(message)

    @Slot(object)
    def _on_loaded(self, dataset) -> None:
        self.load_message.setText(f"{dataset.name}: {len(dataset.x_train):,} training, "
                                  f"{len(dataset.x_val):,} validation examples")
        self.dataset_loaded.emit(dataset)

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.load_message.setText(f"<span style='color:#b00'>{message}</span>")

    @Slot()
    def _on_loader_finished(self) -> None:
        self._loader.deleteLater()
        self._loader = None
        self.load_bar.hide()
        self.download.setEnabled(True)
        self.preview_button.setEnabled(True)

    def shutdown(self) -> None:
        if self._loader is not None:
            self._loader.cancel()
            self._loader.wait(5000)


def _row(*widgets) -> QWidget:
    w = QWidget()
    h = QHBoxLayout(w)
    h.setContentsMargins(0, 0, 0, 0)
    for x in widgets:
        h.addWidget(x, 1 if isinstance(x, QLineEdit) else 0)
    return w
