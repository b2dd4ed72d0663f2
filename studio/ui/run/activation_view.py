"""The Activations tab: what the layer chosen on the canvas outputs for a few
fixed validation examples, refreshed after every epoch while training, and on
demand from the current weights (the last run's, or the untrained network's on
the previewed dataset) when idle. For an attention layer it shows, by choice, its
attention map (studio.ui.run.attention_view) or its output."""
from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.train import activations, attention_maps
from studio.ui.editor.attention_chooser import AttentionChooser
from studio.ui.run import attention_view
from studio.ui.run.ramp import _RAMP, GAP, colourize  # noqa: F401 - re-exported for the views and tests
from studio.ui.run.samples import chw_to_hwc, thumbnail, to_qimage

VIEW_HEIGHT = 220
BAR_HEIGHT = 48  # a vector's strip of cells
TEXT_WIDTH = 360  # the picture's width when it holds a message instead


class ActivationView(QWidget):
    snapshot_changed = Signal(object)  # {node id: outputs}, once per snapshot (not per batch)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.node = QComboBox()
        self.node.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.node.setToolTip("The layer to look at; selecting a layer on the canvas chooses it too")
        self.example = QComboBox()
        self.example.setToolTip("One of the fixed validation examples")
        self.refresh = QPushButton("Refresh from current weights")
        self.refresh.setToolTip("Run the probe examples through the network as it is now")
        self.input = QLabel()
        self.input.setFixedSize(96, 96)
        self.input.setAlignment(Qt.AlignCenter)
        self.picture = QLabel("Train, or press Refresh, to see what each layer outputs.")
        self.picture.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.picture.setMinimumHeight(VIEW_HEIGHT)
        self.picture.setWordWrap(True)
        self.picture.setMinimumWidth(TEXT_WIDTH)
        self.caption = QLabel()
        self.caption.setProperty("role", "muted")
        self.legend = QLabel(attention_view.HOW_TO_READ)  # beside an attention map: how to read it
        self.legend.setProperty("role", "muted")
        self.legend.setWordWrap(True)
        self.legend.setFixedWidth(200)
        self.legend.hide()
        self.chooser = AttentionChooser()  # shown for attention layers only
        self.chooser.hide()
        bar = QHBoxLayout()
        for w in (QLabel("Layer"), self.node, QLabel("Example"), self.example, self.refresh):
            bar.addWidget(w)
        bar.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.input, 0, Qt.AlignTop)
        body.addWidget(self.picture, 0)
        body.addWidget(self.legend, 0, Qt.AlignTop)
        body.addStretch(1)
        v = QVBoxLayout(self)
        v.setContentsMargins(4, 4, 4, 4)
        v.addLayout(bar)
        v.addWidget(self.chooser)
        v.addWidget(self.caption)
        v.addLayout(body, 1)
        self.node.currentIndexChanged.connect(self._draw)
        self.example.currentIndexChanged.connect(self._draw)
        self.refresh.clicked.connect(self.refresh_now)
        self.chooser.changed.connect(self._draw)
        self.snapshot: dict[str, torch.Tensor] = {}
        self.attention: dict[str, torch.Tensor | None] = {}  # {attention node: N×layers×heads×T×T, or None}
        self.wish = attention_maps.Wish()  # which nodes' attention maps are shown: the run's probe reads it
        self.inputs: torch.Tensor | None = None   # raw probe examples, for the thumbnail
        self.when = ""
        self.followed: str | None = None  # the layer chosen on the canvas, also before any snapshot
        self.source = None  # () -> (model, dataset, normalize) for an on-demand refresh, or None

    # -- data in ---------------------------------------------------------------------
    @Slot(object)
    def show_epoch(self, latest) -> None:
        epoch, snapshot, inputs, *attention = latest
        self.set_snapshot(snapshot, inputs, f"after epoch {epoch}", attention[0] if attention else None)

    def set_snapshot(self, snapshot: dict[str, torch.Tensor], inputs: torch.Tensor | None, when: str,
                     attention: dict | None = None) -> None:
        keep = self.node.currentText()
        self.snapshot, self.inputs, self.when = snapshot, inputs, when
        self.attention = dict(attention or {})
        n = next(iter(snapshot.values())).shape[0] if snapshot else 0
        for combo, items in ((self.node, list(snapshot)), (self.example, [f"#{i + 1}" for i in range(n)])):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            if current in items:
                combo.setCurrentText(current)
            combo.blockSignals(False)
        if keep in snapshot or self.followed in snapshot:
            self.node.setCurrentText(keep if keep in snapshot else self.followed)
        self._draw()
        self.snapshot_changed.emit(snapshot)

    @Slot(list)
    def follow_selection(self, ids: list) -> None:
        if len(ids) == 1:
            self.followed = ids[0]
            self._ask()
        if len(ids) == 1 and ids[0] in self.snapshot:
            self.node.setCurrentText(ids[0])

    @Slot()
    def refresh_now(self) -> bool:
        try:
            source = self.source() if self.source is not None else None
        except Exception as e:  # noqa: BLE001 - e.g. a graph that does not compile yet
            self.caption.setText(f"Cannot build the network yet: {e}")
            return False
        if source is None:
            self.caption.setText("Nothing to run yet: train the network, or load the dataset with "
                                 "Preview samples first.")
            return False
        model, dataset, normalize = source
        try:
            x, _ = activations_probe(dataset, normalize)
            snap = activations.capture(model, x)
            attention = attention_maps.capture(model, x)
        except Exception as e:  # noqa: BLE001 - a network that does not fit the data: say so
            self.caption.setText(f"Cannot run the network on these examples: {e}")
            return False
        self.set_snapshot(snap, dataset.x_val[: x.shape[0]], "from the current weights", attention)
        return True

    # -- drawing -----------------------------------------------------------------------
    @Slot()
    def _draw(self) -> None:
        node, i = self.node.currentText(), max(0, self.example.currentIndex())
        self._ask()
        if not node or node not in self.snapshot:
            return
        self.chooser.setVisible(node in self.attention)
        look = self.attention_look(node, i, 900, VIEW_HEIGHT)
        self.legend.hide()
        if isinstance(look, str):
            self.picture.setMinimumWidth(TEXT_WIDTH)
            self.picture.setText(look)
            self.caption.setText(f"{node}, {self.when}")
            return
        pix, caption = look or render(self.snapshot[node], i, 900, VIEW_HEIGHT)
        self.picture.setMinimumWidth(0)
        self.picture.setPixmap(pix)
        self.legend.setVisible(bool(look))
        self.caption.setText(f"{node}: {caption}, {self.when}")
        inp = self.input_pixmap(i, 96)
        self.input.setVisible(inp is not None)  # sequences and vectors: no empty box
        if inp is not None:
            self.input.setPixmap(inp)
        else:
            self.input.clear()

    def attention_look(self, node: str, i: int, max_w: int, max_h: int, chooser=None):
        """(picture, caption) of the node's attention map when it is an attention layer and
        the chooser says so; why not, when its maps were not worked out; None: draw its output."""
        chooser = self.chooser if chooser is None else chooser
        if node not in self.attention:
            return None
        maps = self.attention[node]
        chooser.set_shape(*attention_view.shape(maps))
        choice = chooser.choice()
        if not choice.attention:
            return None
        if maps is None:
            return attention_view.NOT_YET
        return attention_view.render(maps, i, choice, max_w, max_h)

    def _ask(self) -> None:
        """Tell the run's probe which node this tab shows an attention map of (if any)."""
        node = self.node.currentText() or self.followed
        showing = self.isVisible() and node and self.chooser.choice().attention
        self.wish.ask("tab", [node] if showing and self.may_attend(node) else [])

    def may_attend(self, node: str) -> bool:
        """An attention layer, or one the snapshot does not know yet."""
        return node in self.attention or node not in self.snapshot

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._ask()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().hideEvent(event)
        self._ask()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a theme switch: the step numbers' colour
            self._draw()

    def input_pixmap(self, i: int, size: int) -> QPixmap | None:
        """Probe example i as the dataset has it, when it is an image."""
        if self.inputs is not None and self.inputs.dim() == 4 and i < self.inputs.shape[0]:
            return thumbnail(chw_to_hwc(self.inputs[i]), size)
        return None


def render(outputs: torch.Tensor, i: int, max_w: int, max_h: int) -> tuple[QPixmap, str]:
    """Example i of one node's probe outputs as a picture that fits max_w × max_h
    (feature-map grid, T×F heat map or bar strip), and what it shows. Enlarged by
    whole pixels, so cells stay crisp; shrunk smoothly only when too big."""
    view = activations.summarize(outputs[min(i, outputs.shape[0] - 1)])
    rgb = np.ascontiguousarray(colourize(view.image))
    h, w = rgb.shape[:2]
    if view.kind == "bars":  # cells as wide as fit, in a strip of a fixed height
        sx, sy = _scale(max_w / max(w, 1)), min(max_h, BAR_HEIGHT)
        size, fast = (round(w * sx), sy), sx >= 1
    else:
        fit = min(max_h / max(h, 1), max_w / max(w, 1))
        s = _scale(fit)
        size, fast = (round(w * s), round(h * s)), fit >= 1
    mode = Qt.FastTransformation if fast else Qt.SmoothTransformation
    pix = QPixmap.fromImage(to_qimage(rgb)).scaled(max(1, size[0]), max(1, size[1]),
                                                    Qt.IgnoreAspectRatio, mode)
    return pix, view.caption


def _scale(fit: float) -> float:
    """Whole-pixel enlargement, or the exact shrink when the picture is too big."""
    return float(int(fit)) if fit >= 1 else fit


def panel_source(panel):
    """(model, dataset, normalize) for an on-demand look: the panel's last run's model,
    or the untrained network on the previewed dataset; None when there is neither."""
    o = panel.outcome
    if o is not None and o.model is not None and o.dataset is not None and o.project is not None:
        return o.model, o.dataset, o.project.data.normalize
    ds = panel.preview_dataset
    if ds is None or panel.project is None:
        return None
    from studio.graph.compile import compile_graph
    return compile_graph(panel.project.model), ds, panel.project.data.normalize


def activations_probe(dataset, normalize: bool):
    from studio.train.insight import probe_inputs
    return probe_inputs(dataset, normalize, activations.PROBE_SIZE)
