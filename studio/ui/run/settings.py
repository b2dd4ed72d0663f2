"""The dataset and training settings form, bound to `project.data` / `project.train`.

Every edit goes through an undo command on the window's undo stack (so it marks
the document dirty and Ctrl+Z takes it back, as for graph edits; consecutive
edits of one field merge into one command). The form follows the project's
events: a change from an edit, an undo, a redo or any other code is shown the
same way.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QVBoxLayout, QWidget

from studio.project.events import SettingChanged
from studio.settings import OPTIMIZERS, SCHEDULES

from studio.ui.run.dataset_section import TEXT_KEYS, DatasetSection
from studio.ui.run.fields import SettingFields
from studio.ui.run.precheck import device_choices, precision_choices


class RunSettingsForm(QWidget):
    dataset_loaded = Signal(object)    # a Dataset, from Download/Preview

    def __init__(self, undo_stack=None, known=None, parent=None):
        super().__init__(parent)
        self.project = None
        self.undo_stack = undo_stack
        self.fields = SettingFields(undo_stack, known, self)

        self.data = DatasetSection(self.fields)
        self.data.loaded.connect(self.dataset_loaded)
        self.fields.rejected.connect(self.data.load_message.setText)
        # Kept as attributes of the form: callers and tests reach them here.
        self._data_form = self.data.rows
        for name in ("dataset", "root", "path", "target", "root_row", "path_row", "load_message",
                     "preview_button", "download", "load_bar"):
            setattr(self, name, getattr(self.data, name))

        # -- training -----------------------------------------------------------------
        f = self.fields
        train_box = QGroupBox("Training")
        tf = QFormLayout(train_box)
        tf.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        tf.addRow("Optimizer", f.choice_field("train", "optimizer",
                                              [(o, o.upper() if len(o) < 5 else o.title()) for o in OPTIMIZERS]))
        tf.addRow("Learning rate", f.sci_field("train", "lr", 0.0, 1e9))
        tf.addRow("Momentum", f.float_field("train", "momentum", 0.0, 1.0, 0.05, 3))
        tf.addRow("Schedule", f.choice_field("train", "schedule", [(s, s.title()) for s in SCHEDULES]))
        tf.addRow("Step every", f.int_field("train", "step_size", 1, 100000, tip="Epochs between decays (Step)"))
        tf.addRow("Decay factor", f.float_field("train", "gamma", 0.0, 10.0, 0.05, 3))
        tf.addRow("Batch size", f.int_field("train", "batch_size", 1, 1 << 20))
        tf.addRow("Epochs", f.int_field("train", "epochs", 0, 100000))
        tf.addRow("Weight decay", f.sci_field("train", "weight_decay", 0.0, 10.0))
        tf.addRow("L1", f.sci_field("train", "l1", 0.0, 10.0))
        tf.addRow("Gradient clip", f.sci_field("train", "grad_clip", 0.0, 1e9))
        tf.addRow("Label smoothing", f.float_field("train", "label_smoothing", 0.0, 0.99, 0.05, 2))
        tf.addRow("Early stopping", f.int_field("train", "early_stopping", 0, 100000, special="off",
                                                tip="Stop after N epochs without a better validation score"))
        tf.addRow("Seed", f.int_field("train", "seed", 0, 2**31 - 1))
        tf.addRow("Device", f.choice_field("train", "device", device_choices()))
        tf.addRow("Precision", f.choice_field("train", "precision", precision_choices()))
        tf.addRow("", f.check_field("train", "compile", "Try torch.compile (used only if faster)"))
        tf.addRow("", f.check_field("train", "tensorboard", "TensorBoard log",
                                    tip="Write TensorBoard event files into the run's folder (tensorboard/): "
                                        "open with `tensorboard --logdir <project>.runs`"))

        f.widget("train", "grad_clip").setToolTip("Maximum gradient norm (0 = off): tames exploding losses")
        self._train_form = tf
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.data)
        layout.addWidget(train_box)
        layout.addStretch(1)

    # -- binding ------------------------------------------------------------------------
    def set_project(self, project) -> None:
        if self.project is not None:
            self.project.unsubscribe(self._on_project_event)
        self.project = self.fields.project = project
        if project is not None:
            project.subscribe(self._on_project_event)
        self.refresh()

    def refresh(self) -> None:
        """Show every setting of the project."""
        if self.project is None:
            return
        self.fields.show_all()
        for key in TEXT_KEYS:
            self.data.show_text(key, getattr(self.project.data, key))
        self._update_visibility()

    def _on_project_event(self, ev) -> None:
        if not isinstance(ev, SettingChanged):
            return
        self.fields.show(ev.section, ev.key, ev.new)
        if ev.section == "data" and ev.key in TEXT_KEYS:
            self.data.show_text(ev.key, ev.new)
        self._update_visibility()

    def set_value(self, section: str, key: str, value) -> None:
        """A user edit: checked, then applied through the undo stack."""
        self.fields.edit(section, key, value)

    # -- fields that depend on other settings --------------------------------------------
    def _update_visibility(self) -> None:
        if self.project is None:
            return
        self.data.update_visibility(self.project.data)
        t, w = self.project.train, self.fields.widget
        self._train_form.setRowVisible(w("train", "momentum"), t.optimizer in ("sgd", "rmsprop"))
        for key in ("step_size", "gamma"):
            self._train_form.setRowVisible(w("train", key), t.schedule == "step")

    def load_preview(self) -> None:
        self.data.load_preview()

    def shutdown(self) -> None:
        self.data.shutdown()
