"""Looking inside a trained network: the embedding of any node's outputs over
the validation set (PCA or t-SNE, coloured by class, k-means agreement), and
Grad-CAM and integrated gradients beside the saliency of "Test an image".

The numbers come from studio.train.insight; this file only shows them."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QThread, Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QComboBox, QDialog, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from studio.train import activations, insight
from studio.ui.run.inference import overlay, to_input
from studio.ui.run.samples import thumbnail

PALETTE = ("#4866e8", "#e8833a", "#3aa55d", "#d03d3d", "#8e5bd6", "#8c6d46", "#d664b5", "#7f7f7f",
           "#b5b82b", "#2cb5c9")
THUMB = 128


def layer_outputs(model: torch.nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Each node module's output shape for one example (in execution order)."""
    return {name: tuple(out.shape[1:]) for name, out in activations.capture(model, x[:1]).items()}


def default_node(shapes: dict[str, tuple[int, ...]]) -> str:
    """The narrowest layer before the last, the later one on a tie: a classifier's
    penultimate layer, an autoencoder's code."""
    names = list(shapes)[:-1] or list(shapes)
    if not names:
        return ""
    size = {n: int(np.prod(shapes[n])) for n in names}
    return min(reversed(names), key=lambda n: size[n])


class ExplainStrip(QWidget):
    """Grad-CAM at a chosen convolutional node, and integrated gradients."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.node = QComboBox()
        self.node.setToolTip("The convolutional layer Grad-CAM looks at (later layers: coarser, "
                             "more about classes)")
        self.cam, self.ig = QLabel(), QLabel()
        for label, tip in ((self.cam, "Grad-CAM: where the chosen layer's features pushed the top class"),
                           (self.ig, "Integrated gradients: each pixel's share of the top class's score")):
            label.setFixedSize(THUMB, THUMB)
            label.setAlignment(Qt.AlignCenter)
            label.setToolTip(tip)
        self.caption = QLabel("Grad-CAM at")
        self.caption.setProperty("role", "muted")
        top = QHBoxLayout()
        top.addWidget(self.caption)
        top.addWidget(self.node, 1)
        pics = QHBoxLayout()
        pics.addWidget(self.cam)
        pics.addWidget(self.ig)
        pics.addStretch(1)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addLayout(top)
        v.addLayout(pics)
        self.model = self.last = None
        self.node.currentIndexChanged.connect(self._redo)
        self.hide()

    def set_model(self, model, example_input: torch.Tensor | None) -> None:
        self.model, self.last = model, None
        self.node.blockSignals(True)
        self.node.clear()
        if model is not None and example_input is not None:
            convs = [n for n, s in layer_outputs(model, example_input).items() if len(s) == 3]
            self.node.addItems(convs)
            if convs:
                self.node.setCurrentIndex(len(convs) - 1)  # the last conv layer, as Grad-CAM's paper
        self.node.blockSignals(False)
        self.hide()

    def explain(self, image: np.ndarray, x: torch.Tensor, target: int) -> None:
        self.last = (image, x, target)
        self._redo()

    @Slot()
    def _redo(self) -> None:
        if self.model is None or self.last is None:
            return
        image, x, target = self.last
        node = self.node.currentText()
        if node:
            cam = insight.grad_cam(self.model, node, x, target)
            self.cam.setPixmap(thumbnail(overlay(image, cam)))
        else:
            self.cam.setText("No convolutional\nlayer")
        self.ig.setPixmap(thumbnail(overlay(image, insight.integrated_gradients(self.model, x, target))))
        self.show()


class _Compute(QThread):
    """The projection and k-means off the GUI thread (t-SNE takes seconds)."""
    done = Signal(object)

    def __init__(self, model, dataset, normalize, node, method, limit):
        super().__init__()
        self.args = (model, dataset, normalize, node, method, limit)

    def run(self) -> None:
        model, ds, normalize, node, method, limit = self.args
        try:
            x, y = insight.probe_inputs(ds, normalize, limit)
            feats = insight.node_outputs(model, node, x)
            emb = insight.project_2d(feats, method)
            k = max(2, len(ds.classes)) if ds.task == "classification" else 4
            labels = y.numpy() if ds.task == "classification" else None
            self.done.emit((node, emb, insight.cluster(feats, min(k, len(emb)), labels), y.numpy()))
        except Exception as e:  # noqa: BLE001 - shown in the dialog, never a crash
            self.done.emit(e)


class EmbeddingDialog(QDialog):
    """A node's outputs over the validation set as points in 2-D. Non-modal:
    selecting a layer on the canvas shows that layer."""

    def __init__(self, outcome, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Embedding")
        self.resize(760, 560)
        self.outcome = outcome
        ds = outcome.dataset
        self.normalize = outcome.project.data.normalize if outcome.project is not None else True
        x, _ = insight.probe_inputs(ds, self.normalize, 1)
        self.shapes = layer_outputs(outcome.model, x)
        self.node = QComboBox()
        self.node.addItems(list(self.shapes))
        self.node.setCurrentText(default_node(self.shapes))
        self.method = QComboBox()
        self.method.addItem("PCA", "pca")
        self.method.addItem("t-SNE", "tsne")
        self.limit = QSpinBox()
        self.limit.setRange(50, 5000)
        self.limit.setValue(min(1000, int(ds.x_val.shape[0])))
        self.limit.setSuffix(" examples")
        self.weights = QComboBox()
        self.weights.addItem("trained", "trained")
        self.weights.addItem("untrained", "untrained")
        self.weights.setToolTip("Untrained: the same network with the weights it started from (the run's "
                                "seed), to see how much of the grouping training made")
        self.weights.setEnabled(outcome.project is not None)
        self.go = QPushButton("Show")
        self.go.setDefault(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget(background=self.palette().color(QPalette.ColorRole.Base))
        self.plot.setAspectLocked(False)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.scatter = pg.ScatterPlotItem(size=7, pen=None)
        self.plot.addItem(self.scatter)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.RichText)
        self.example = QLabel()
        self.example.setFixedSize(THUMB, THUMB)
        self.example.setAlignment(Qt.AlignCenter)
        self.example_text = QLabel("Click a point to see its example.")
        self.example_text.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(self.legend)
        side.addSpacing(12)
        side.addWidget(self.example)
        side.addWidget(self.example_text)
        side.addStretch(1)
        bar = QHBoxLayout()
        for w in (QLabel("Layer"), self.node, self.method, self.limit, QLabel("Weights"), self.weights, self.go):
            bar.addWidget(w)
        bar.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addLayout(side)
        v = QVBoxLayout(self)
        v.addLayout(bar)
        v.addWidget(self.status)
        v.addLayout(body, 1)
        self.go.clicked.connect(self.compute)
        self.weights.activated.connect(self.compute)
        self.scatter.sigClicked.connect(self._clicked)
        self.job: _Compute | None = None
        self.result = None
        self.untrained = None                      # built on first use
        self.scores: dict[tuple[str, str], float] = {}  # (node, weights) -> adjusted Rand index

    @Slot(list)
    def follow_selection(self, ids: list) -> None:
        if len(ids) == 1 and ids[0] in self.shapes:
            self.node.setCurrentText(ids[0])
            self.compute()

    @Slot()
    def compute(self) -> None:
        if self.job is not None and self.job.isRunning():
            return
        node = self.node.currentText()
        try:
            model = self.model()
        except Exception as e:  # noqa: BLE001 - e.g. the network no longer fits the data: say so
            self.status.setText(f"<span style='color:#d03d3d'>Cannot build the untrained network: {e}</span>")
            return
        self.go.setEnabled(False)
        self.status.setText(f"Computing {self.method.currentText()} of {node}'s outputs…")
        self.job = _Compute(model, self.outcome.dataset, self.normalize, node,
                            self.method.currentData(), self.limit.value())
        self.job.weights = self.weights.currentData()
        self.job.done.connect(self._shown)
        self.job.start()

    def model(self) -> torch.nn.Module:
        """The network whose outputs are shown: the run's, or the same untrained."""
        if self.weights.currentData() != "untrained":
            return self.outcome.model
        if self.untrained is None:
            from studio.train.finetune import starting_model
            rng = torch.get_rng_state()
            try:
                self.untrained = starting_model(self.outcome.project, self.outcome.dataset)[0]
            finally:
                torch.set_rng_state(rng)
        return self.untrained

    @Slot(object)
    def _shown(self, result) -> None:
        self.go.setEnabled(True)
        if isinstance(result, Exception):
            self.status.setText(f"<span style='color:#d03d3d'>Cannot show this layer: {result}</span>")
            return
        node, emb, clusters, y = result
        self.result = result
        ds = self.outcome.dataset
        classify = ds.task == "classification"
        colour_of = y.astype(int) if classify else clusters.assignment
        brushes = [pg.mkBrush(PALETTE[int(c) % len(PALETTE)]) for c in colour_of]
        self.scatter.setData(x=emb[:, 0], y=emb[:, 1], brush=brushes, data=np.arange(len(emb)))
        self.plot.autoRange()
        names = ds.classes if classify else [f"cluster {i}" for i in range(clusters.k)]
        self.legend.setText("<br>".join(f"<span style='color:{PALETTE[i % len(PALETTE)]}'>●</span> {n}"
                                        for i, n in enumerate(names)))
        shape = "×".join(map(str, self.shapes.get(node, ())))
        which = self.job.weights if self.job is not None else "trained"
        text = (f"{node} ({shape}), {which} weights, over {len(emb)} validation examples. "
                f"k-means with k={clusters.k}")
        if clusters.ari is not None:
            text += (f": adjusted Rand index {clusters.ari:.2f}, NMI {clusters.nmi:.2f} against the "
                     "labels (1 = the clusters are the classes, 0 = chance).")
            self.scores[(node, which)] = clusters.ari
            other = "untrained" if which == "trained" else "trained"
            if (node, other) in self.scores:
                text += f" The {other} network scored {self.scores[(node, other)]:.2f} here."
        self.status.setText(text)

    @Slot(object, object)
    def _clicked(self, _item, points) -> None:
        if not len(points) or self.result is None:
            return
        i = int(points[0].data())
        node, emb, clusters, y = self.result
        ds = self.outcome.dataset
        x = ds.x_val[i]
        if ds.kind == "image" and x.dtype == torch.uint8:
            img = x.numpy()
            img = img[0] if img.shape[0] == 1 else np.ascontiguousarray(img[:3].transpose(1, 2, 0))
            self.example.setPixmap(thumbnail(img))
        else:
            self.example.clear()
        truth = ds.classes[int(y[i])] if ds.task == "classification" else f"{float(y[i]):.3g}"
        self.example_text.setText(f"Example {i}: {truth}; k-means cluster {int(clusters.assignment[i])}")


def prepared(chw: np.ndarray, dataset, normalize: bool) -> torch.Tensor:
    return to_input(chw, dataset.mean, dataset.std, normalize)
