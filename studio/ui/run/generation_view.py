"""Results of an autoencoder run: validation inputs beside their
reconstructions after each epoch, and for a variational autoencoder, images
decoded from random codes and a walk between two inputs' codes."""
from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from studio.train import generate, insight
from studio.ui.run.samples import Sample, chw_to_hwc, to_qimage

MAX_EPOCH_ROWS = 6


def is_reconstruction(outcome) -> bool:
    project = getattr(outcome, "project", None)
    if project is None:
        return False
    m = project.model
    return any(m.type_of(n) == "Output" and m.params(n).get("task") == "reconstruction" for n in m.nodes())


def _hwc(images: torch.Tensor) -> list[np.ndarray]:
    return [chw_to_hwc(img) for img in images]


def epoch_samples(probe) -> list[Sample]:
    """The probe's inputs, then one row of reconstructions per epoch (the first
    epochs and the last, at most MAX_EPOCH_ROWS rows)."""
    if probe is None or probe.inputs is None or not probe.frames:
        return []
    frames = probe.frames
    if len(frames) > MAX_EPOCH_ROWS:
        frames = frames[: MAX_EPOCH_ROWS - 1] + frames[-1:]
    out = [Sample(img, "input") for img in _hwc(probe.inputs)]
    for epoch, images in frames:
        out += [Sample(img, f"epoch {epoch}") for img in _hwc(images)]
    return out


MIN_PX = 48  # small images are enlarged by whole pixels to at least this height


class StripRows(QWidget):
    """Rows of equally sized images, each row with its caption on the left,
    so the reconstructions of one input line up under it epoch after epoch."""

    def __init__(self, per_row: int, scale: int = 2, parent=None):
        super().__init__(parent)
        self.per_row, self.scale = per_row, scale
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(4)
        self._samples: list[Sample] = []

    def samples(self) -> list[Sample]:
        return list(self._samples)

    def set_samples(self, samples: list[Sample]) -> None:
        self._samples = list(samples)
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        for r in range(0, len(samples), self.per_row):
            row = samples[r:r + self.per_row]
            caption = QLabel(row[0].caption)
            caption.setProperty("role", "muted")
            self.grid.addWidget(caption, r // self.per_row, 0, Qt.AlignRight | Qt.AlignVCenter)
            strip = np.concatenate([_pad(s.image) for s in row], axis=1)
            label = QLabel()
            scale = max(self.scale, MIN_PX // max(1, strip.shape[0]))  # 8×8 digits: 48 px, not 16
            label.setPixmap(QPixmap.fromImage(to_qimage(strip)).scaled(
                strip.shape[1] * scale, strip.shape[0] * scale, Qt.KeepAspectRatio,
                Qt.FastTransformation))
            self.grid.addWidget(label, r // self.per_row, 1, Qt.AlignLeft)
        self.grid.setColumnStretch(2, 1)


def _pad(image: np.ndarray, px: int = 2) -> np.ndarray:
    """A white margin on the right, so the images of a strip stay apart."""
    rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image
    return np.pad(rgb, ((0, 0), (0, px), (0, 0)), constant_values=255)


class GenerationView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.inside = QPushButton("Embedding…")
        self.inside.setToolTip("The code (or any layer) over the validation set in 2-D, with k-means")
        self.recon_title = QLabel("Inputs and their reconstructions, epoch by epoch")
        self.recon = StripRows(per_row=8)
        self.prior_title = QLabel("New images decoded from random codes (samples from the prior)")
        self.prior = StripRows(per_row=8)
        self.walk_title = QLabel("From one input to another through the latent space")
        self.walk = StripRows(per_row=10)
        for title in (self.recon_title, self.prior_title, self.walk_title):
            title.setProperty("role", "section")
        body = QWidget()
        v = QVBoxLayout(body)
        v.setContentsMargins(4, 0, 4, 4)
        v.addWidget(self.inside, 0, Qt.AlignLeft)
        for w in (self.recon_title, self.recon, self.prior_title, self.prior, self.walk_title, self.walk):
            v.addWidget(w)
        v.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def show_outcome(self, outcome) -> None:
        self.recon.set_samples(epoch_samples(getattr(outcome, "reconstructions", None)))
        model, ds = getattr(outcome, "model", None), getattr(outcome, "dataset", None)
        variational = model is not None and bool(generate.latent_terms(model))
        for w in (self.prior_title, self.prior, self.walk_title, self.walk):
            w.setVisible(variational)
        if not variational or ds is None or ds.kind != "image":
            self.prior.set_samples([])
            self.walk.set_samples([])
            return
        normalize = outcome.project.data.normalize if outcome.project is not None else True
        x, _ = insight.probe_inputs(ds, normalize, 2)
        prior = generate.to_uint8(generate.sample_prior(model, x, 16))
        self.prior.set_samples([Sample(img, "from N(0, 1)") for img in _hwc(prior)])
        walk = generate.to_uint8(generate.interpolate(model, x[:1], x[1:2], 8))
        ends = _hwc(ds.x_val[:2])
        self.walk.set_samples([Sample(ends[0], "A → B")] + [Sample(img, "") for img in _hwc(walk)]
                              + [Sample(ends[1], "")])
