"""The small "search" buttons beside parameters (inspector) and settings (run
settings form). A marked one is highlighted, its range in the tooltip; clicking opens
DimensionDialog."""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QDialogButtonBox, QFormLayout, QHBoxLayout, QToolButton, QWidget

from studio.graph.blocks import resolve
from studio.graph.spec import hw
from studio.settings import DataSettings, TrainSettings

from studio.ui.sweep.commands import SweepDoc
from studio.ui.sweep.dimension_dialog import DimensionDialog, suggestion

# A height×width size ("size2") is searched as a square int: a pair is not searchable.
SEARCHABLE_KINDS = ("int", "float", "choice", "bool", "size2")
# Settings offered in the run settings form.
SETTING_MARKERS = {"train": ("optimizer", "lr", "momentum", "schedule", "batch_size", "weight_decay", "l1",
                             "grad_clip", "label_smoothing"),
                   "data": ("augment_crop", "augment_flip")}


class Marker(QToolButton):
    """Marks one parameter as a search dimension; `key` is the dimension's key,
    `current()` the parameter's value now (the first range is drawn around it)."""

    def __init__(self, doc: SweepDoc, base: dict, title: str, current, param_kind: str,
                 choices=(), lo=None, hi=None, compact: bool = False, parent=None):
        super().__init__(parent)
        self.compact = compact  # the glyph only (the range goes to the tooltip)
        # Marked is loud enough to see at a glance; unmarked stays quiet.
        self.setStyleSheet("QToolButton:checked { background: #E69F00; color: white; border-radius: 3px;"
                           " padding: 0 3px; }")
        self.doc, self.base, self.title = doc, base, title
        self.current, self.param_kind, self.choices, self.lo, self.hi = current, param_kind, choices, lo, hi
        self.key = f"{base['node']}.{base['param']}" if base["target"] == "node" else \
            f"{base['target']}.{base['param']}"
        self.dialog: DimensionDialog | None = None
        self.setAutoRaise(True)
        self.setCheckable(True)
        self.clicked.connect(self.edit)
        doc.changed.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        dim = self.doc.dimension(self.key)
        self.setChecked(dim is not None)
        self.setText("⚲ " + dim.describe() if dim is not None and not self.compact else "⚲")
        self.setToolTip(f"Searched by sweeps: {dim.describe()} — click to change or stop"
                        if dim is not None else f"Search {self.title} in a sweep (Sweep tab)")

    @Slot()
    def edit(self) -> None:
        self.refresh()  # undo the button's own toggle: the state is the document's
        dim = self.doc.dimension(self.key)
        start = dim.to_dict() if dim is not None else suggestion(
            self.base["target"], self.base["param"], self.param_kind, self.current(), self.choices, self.lo, self.hi)
        model = self.doc.project.model
        self.dialog = DimensionDialog(self.base, start, model, self.title, self.window())
        if dim is not None:
            box = self.dialog.findChild(QDialogButtonBox)
            stop = box.addButton("Stop searching", QDialogButtonBox.ButtonRole.DestructiveRole)
            stop.setObjectName("stop_button")
            stop.clicked.connect(self._stop_searching)
        self.dialog.accepted.connect(self._accepted)
        self.dialog.open()

    @Slot()
    def _accepted(self) -> None:
        self.doc.set_dimension(self.key, self.dialog.result_dim)

    @Slot()
    def _stop_searching(self) -> None:
        self.doc.set_dimension(self.key, None)
        self.dialog.reject()


def node_marker_factory(doc: SweepDoc):
    """For Inspector.param_marker: a Marker for a searchable node parameter, else None."""
    def make(path: str, param) -> Marker | None:
        if doc.project is None or param.kind not in SEARCHABLE_KINDS:
            return None
        found = resolve(doc.project.model, path)  # path: the node's id, or "block/id" inside a block
        if found is None:
            return None
        model, nid = found
        if model.type_of(nid) == "Input":  # the dataset sets the Input
            return None
        if param.kind == "size2":  # the first range goes around the larger side
            kind, current = "int", lambda: max(hw(model.params(nid).get(param.name)))
        else:
            kind, current = param.kind, lambda: model.params(nid).get(param.name)
        return Marker(doc, {"target": "node", "node": path, "param": param.name},
                      f"{path} {param.title.lower()}", current, kind,
                      param.choices, param.minimum, param.maximum, compact=True)
    return make


def install_setting_markers(form, doc: SweepDoc) -> dict[str, Marker]:
    """Put a compact Marker after the label of each searchable setting of RunSettingsForm
    `form`. The field widgets stay where they are, so the form's own row logic still holds."""
    markers = {}
    for section, keys in SETTING_MARKERS.items():
        cls = TrainSettings if section == "train" else DataSettings
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key in keys:
            widgets = getattr(getattr(form, "fields", None), "widgets", None) or getattr(form, "_widgets", {})
            w = widgets.get((section, key))
            layout = w.parentWidget().layout() if w is not None and w.parentWidget() else None
            if not isinstance(layout, QFormLayout):
                continue
            row, _role = layout.getWidgetPosition(w)
            if row < 0:
                continue
            label_item = layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label = label_item.widget() if label_item is not None else None
            target = "training" if section == "train" else "data"
            kind = type(fields[key].default).__name__
            marker = Marker(doc, {"target": target, "param": key}, key.replace("_", " "),
                            lambda s=section, k=key: getattr(doc.project.section(s), k), kind,
                            cls._choices.get(key, ()), compact=True)
            holder = QWidget()
            h = QHBoxLayout(holder)
            h.setContentsMargins(0, 0, 0, 0)
            h.setSpacing(2)
            if label is not None:
                layout.removeWidget(label)
                h.addWidget(label)
            h.addWidget(marker)
            h.addStretch(1)
            layout.setWidget(row, QFormLayout.ItemRole.LabelRole, holder)
            markers[f"{target}.{key}"] = marker
    return markers
