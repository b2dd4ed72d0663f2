"""What to show of an attention layer: its attention map (which layer of the encoder,
which head or the mean of heads) or its output, as in any other layer. Shared by the
inspector's Activations section and the training panel's Activations tab."""
from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QWidget

MEAN = "Mean of heads"


class Choice(NamedTuple):
    attention: bool        # the attention map; False: the layer's output
    layer: int             # encoder layer, from 0
    head: int | None       # None: the mean of all heads


class AttentionChooser(QWidget):
    """Show ▾  Encoder layer ▾  Head ▾ in one row, or a row each when `narrow`."""
    changed = Signal()

    def __init__(self, narrow: bool = False, parent=None):
        super().__init__(parent)
        self.show_what = QComboBox()
        self.show_what.addItems(["Attention map", "Output"])
        self.show_what.setToolTip("Attention map: which steps each step looks at. Output: what the layer "
                                  "passes on, step by step")
        self.layer = QComboBox()
        self.layer.setToolTip("Which encoder layer: the first looks at the input, each next one at the "
                              "layer before")
        self.head = QComboBox()
        self.head.setToolTip("Each head learns to look for its own pattern; the mean shows them together")
        self.layer_label, self.head_label = QLabel("Encoder layer"), QLabel("Head")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        pairs = ((QLabel("Show"), self.show_what), (self.layer_label, self.layer), (self.head_label, self.head))
        for k, (label, combo) in enumerate(pairs):  # narrow: a row each; else all in one row
            grid.addWidget(label, k if narrow else 0, 0 if narrow else 2 * k)
            grid.addWidget(combo, k if narrow else 0, 1 if narrow else 2 * k + 1)
        grid.setColumnStretch(2 if narrow else 6, 1)
        self._shape = (-1, -1)
        self.set_shape(0, 0)
        for combo in (self.show_what, self.layer, self.head):
            combo.currentIndexChanged.connect(self._changed)

    def set_shape(self, layers: int, heads: int) -> None:
        """The encoder's layer and head counts (0 while no maps are known), keeping the
        choice where it still exists."""
        if (layers, heads) != self._shape:
            self._shape = (layers, heads)
            for combo, items in ((self.layer, [f"{i + 1} of {layers}" for i in range(layers)]),
                                 (self.head, [MEAN] + [f"{i + 1} of {heads}" for i in range(heads)] if heads else [])):
                keep = combo.currentIndex()
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(items)
                combo.setCurrentIndex(min(max(keep, 0), len(items) - 1))
                combo.blockSignals(False)
        self._enable()

    def choice(self) -> Choice:
        head = self.head.currentIndex()
        return Choice(self.show_what.currentIndex() == 0, max(0, self.layer.currentIndex()),
                      None if head <= 0 else head - 1)

    def _enable(self) -> None:
        on = self.show_what.currentIndex() == 0
        for w in (self.layer_label, self.layer, self.head_label, self.head):
            w.setVisible(on)
            w.setEnabled(self._shape[0] > 0)

    @Slot()
    def _changed(self) -> None:
        self._enable()
        self.changed.emit()
