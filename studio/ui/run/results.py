"""The Results tab: confusion matrix, validation samples (misclassified first)
and "Test an image…" with top-5 probabilities, saliency, Grad-CAM and integrated
gradients; "Embedding…" opens the look at any layer's outputs."""
from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSizePolicy, QVBoxLayout, QWidget)

from studio.train import insight
from studio.ui.run.inference import load_image, overlay, predict_image
from studio.ui.run.generation_view import GenerationView, is_reconstruction
from studio.ui.run.insight_view import EmbeddingDialog, ExplainStrip, prepared
from studio.ui.run.samples import Sample, SampleGrid, chw_to_hwc, thumbnail

MAX_SAMPLES = 48


class ConfusionMatrix(QWidget):
    """Counts in cells shaded by row-normalised frequency; rows are the true
    class, columns the predicted one, so errors are off the diagonal."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrix: np.ndarray | None = None
        self.classes: list[str] = []
        self.setMinimumSize(220, 200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_matrix(self, matrix, classes: list[str]) -> None:
        self.matrix = None if matrix is None else np.asarray(matrix, dtype=np.int64)
        self.classes = list(classes)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(320, 300)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing, False)
        pal = self.palette()
        text = pal.windowText().color()
        if self.matrix is None or self.matrix.size == 0:
            p.setPen(pal.placeholderText().color())
            p.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap,
                       "The confusion matrix appears after a classification run")
            return
        m = self.matrix
        k = m.shape[0]
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, min(9.0, 60.0 / max(k, 1))))
        p.setFont(font)
        fm = p.fontMetrics()
        names = [self.classes[i] if i < len(self.classes) else str(i) for i in range(k)]
        label_w = min(90, max(fm.horizontalAdvance(n) for n in names) + 8)
        top, left = 34, label_w + 18
        side = max(8.0, min((self.width() - left - 6) / k, (self.height() - top - 6) / k))
        rows = m.sum(axis=1, keepdims=True).clip(min=1)
        share = m / rows
        accent = QColor("#4866e8")
        p.setPen(text)
        p.drawText(QRectF(left, 0, side * k, 16), Qt.AlignCenter, "predicted")
        p.save()
        p.translate(2, top + side * k / 2)
        p.rotate(-90)
        p.drawText(QRectF(-side * k / 2, 0, side * k, 14), Qt.AlignCenter, "true")
        p.restore()
        for i in range(k):
            p.setPen(text)
            p.drawText(QRectF(16, top + i * side, label_w, side), Qt.AlignRight | Qt.AlignVCenter,
                       fm.elidedText(names[i], Qt.ElideRight, label_w - 4))
            p.drawText(QRectF(left + i * side, 16, side, 16), Qt.AlignCenter,
                       fm.elidedText(names[i], Qt.ElideRight, int(side) - 2))
            for j in range(k):
                cell = QRectF(left + j * side, top + i * side, side, side)
                c = QColor(accent if i == j else QColor("#d03d3d"))
                c.setAlphaF(0.08 + 0.85 * float(share[i, j]) if m[i, j] else 0.03)
                p.fillRect(cell, c)
                p.setPen(QColor(255, 255, 255) if share[i, j] > 0.55 else text)
                if side >= 18:
                    p.drawText(cell, Qt.AlignCenter, str(int(m[i, j])))
        p.setPen(pal.mid().color())
        p.drawRect(QRectF(left, top, side * k, side * k))


class TestImagePane(QWidget):
    """Pick a file, see the top-5 classes and where the network looked."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.button = QPushButton("Test an image…")
        self.button.setToolTip("Classify a picture of your own with the trained model")
        self.picture = QLabel()
        self.picture.setFixedSize(128, 128)
        self.picture.setAlignment(Qt.AlignCenter)
        self.saliency = QLabel()
        self.saliency.setFixedSize(128, 128)
        self.saliency.setAlignment(Qt.AlignCenter)
        self.saliency.setToolTip("Saliency: |d score / d pixel| for the top class, max over channels")
        self.top = QLabel("Train a classifier, then test one of your own images.")
        self.top.setWordWrap(True)
        self.top.setTextFormat(Qt.RichText)
        pics = QHBoxLayout()
        pics.addWidget(self.picture)
        pics.addWidget(self.saliency)
        pics.addStretch(1)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.button, 0, Qt.AlignLeft)
        v.addLayout(pics)
        self.explain = ExplainStrip()
        v.addWidget(self.explain)
        v.addWidget(self.top)
        v.addStretch(1)
        self.model = self.dataset = None
        self.normalize = True
        self.picture.hide()  # until an image is tested
        self.saliency.hide()
        self.button.clicked.connect(self.choose)
        self.button.setEnabled(False)
        self.last = None

    def set_model(self, model, dataset, normalize: bool = True) -> None:
        self.model, self.dataset, self.normalize = model, dataset, normalize
        ok = model is not None and dataset is not None and dataset.kind == "image" \
            and dataset.task == "classification"
        self.explain.set_model(model if ok else None,
                               insight.probe_inputs(dataset, normalize, 1)[0] if ok else None)
        self.button.setEnabled(ok)
        self.button.setToolTip("Classify a picture of your own with the trained model" if ok else
                               "Needs a model trained on an image classification dataset")

    @Slot()
    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Test an image", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp);;All files (*)")
        if path:
            self.test_file(path)

    def test_file(self, path: str):
        c, h, w = (int(v) for v in self.dataset.x_train.shape[1:4])
        try:
            chw = load_image(path, c, h, w)
            pred = predict_image(self.model, chw, self.dataset.classes, self.dataset.mean,
                                 self.dataset.std, self.normalize)
        except Exception as e:  # noqa: BLE001 - a bad file gives a message, not a crash
            self.top.setText(f"<span style='color:#d03d3d'>Cannot test this file: {e}</span>")
            return None
        self.last = pred
        self.picture.show()
        self.saliency.show()
        self.picture.setPixmap(thumbnail(pred.image))
        if pred.saliency is not None:
            self.saliency.setPixmap(thumbnail(overlay(pred.image, pred.saliency)))
        rows = "".join(f"<tr><td>{name}</td><td align='right'>&nbsp;{p * 100:.1f}%</td>"
                       f"<td>&nbsp;<span style='color:#4866e8'>{'█' * max(1, round(p * 20))}</span></td></tr>"
                       for name, p in pred.top)
        self.top.setText(f"<b>Top {len(pred.top)}</b><table>{rows}</table>")
        x = prepared(chw, self.dataset, self.normalize)
        with torch.no_grad():
            target = int(self.model(x).reshape(1, -1).argmax())
        self.explain.explain(pred.image, x, target)
        return pred


class ResultsView(QWidget):
    summary_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.confusion = ConfusionMatrix()
        self.samples = SampleGrid(thumb=48)
        self.samples.empty_text = "Validation samples appear after a run"
        self.samples_title = QLabel("Validation samples")
        self.samples_title.setProperty("role", "section")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.samples)
        self.test = TestImagePane()
        cm_title = QLabel("Confusion matrix")
        cm_title.setProperty("role", "section")
        test_title = QLabel("Your own image")
        test_title.setProperty("role", "section")
        self.inside = QPushButton("Embedding…")
        self.inside.setToolTip("Any layer's outputs over the validation set in 2-D, coloured by class, "
                               "with k-means clusters")
        self.inside.setEnabled(False)
        self.inside.clicked.connect(self.open_embedding)
        self.canvas_selection = None  # the canvas's selection_changed signal, set by the window
        self.outcome = None
        self.embedding: EmbeddingDialog | None = None

        def column(title, widget, stretch):
            v = QVBoxLayout()
            v.setSpacing(2)
            v.addWidget(title)
            v.addWidget(widget, 1)
            return v, stretch

        # After an edit the results describe the network as it was.
        self.stale = QLabel("These results are from the network before your last edit: train again to update them.")
        self.stale.setProperty("role", "error")
        self.stale.setWordWrap(True)
        self.stale.hide()
        self.classic = QWidget()  # classifiers and regressors; autoencoders get self.generation
        h = QHBoxLayout(self.classic)
        h.setContentsMargins(4, 0, 4, 4)
        for layout, stretch in (column(cm_title, self.confusion, 3), column(self.samples_title, scroll, 4),
                                column(test_title, self.test, 2)):
            h.addLayout(layout, stretch)
        h.itemAt(0).layout().addWidget(self.inside, 0, Qt.AlignLeft)
        self.generation = GenerationView()
        self.generation.hide()
        self.generation.inside.clicked.connect(self.open_embedding)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addWidget(self.stale)
        outer.addWidget(self.classic)
        outer.addWidget(self.generation)

    @Slot()
    def open_embedding(self) -> EmbeddingDialog | None:
        if self.outcome is None:
            return None
        if self.embedding is not None:
            self.embedding.close()
        self.embedding = EmbeddingDialog(self.outcome, self)
        if self.canvas_selection is not None:
            self.canvas_selection.connect(self.embedding.follow_selection)
        self.embedding.show()
        self.embedding.compute()
        return self.embedding

    def set_stale(self, stale: bool) -> None:
        self.stale.setVisible(stale and self.outcome is not None)

    def show_outcome(self, outcome) -> None:
        self.stale.hide()
        usable = outcome is not None and outcome.model is not None and outcome.dataset is not None
        self.outcome = outcome if usable else None
        self.inside.setEnabled(usable)
        generative = outcome is not None and is_reconstruction(outcome)
        self.classic.setVisible(not generative)
        self.generation.setVisible(generative)
        if generative:
            self.generation.show_outcome(outcome)
            self.test.set_model(None, None)
            return
        if outcome is None:
            self.confusion.set_matrix(None, [])
            self.samples.set_samples([])
            self.samples_title.setText("Validation samples")
            self.test.set_model(None, None)
            return
        ds = outcome.dataset
        classes = ds.classes if ds is not None else []
        self.confusion.set_matrix(outcome.confusion, classes)
        self.samples.set_samples(validation_samples(outcome))
        wrong, total = misclassified(outcome)
        self.samples_title.setText(f"Validation samples: {wrong} of {total} misclassified, shown first"
                                   if wrong else "Validation samples")
        normalize = outcome.project.data.normalize if outcome.project is not None else True
        self.test.set_model(outcome.model, ds, normalize)


def misclassified(outcome) -> tuple[int, int]:
    vp, ds = outcome.val_predictions, outcome.dataset
    if not isinstance(vp, dict) or ds is None or ds.task != "classification":
        return 0, 0
    pred, target = np.asarray(vp["pred"]).reshape(-1), np.asarray(vp["target"]).reshape(-1)
    return int((pred != target).sum()), len(target)


def validation_samples(outcome, limit: int = MAX_SAMPLES) -> list[Sample]:
    """Up to `limit` validation examples, misclassified first, from the trainer's
    val_predictions {"index", "pred", "target", "confidence"?}."""
    ds, vp = outcome.dataset, outcome.val_predictions
    if ds is None or not isinstance(vp, dict) or "index" not in vp:
        return []
    index = np.asarray(vp["index"]).reshape(-1)
    pred = np.asarray(vp["pred"])
    target = np.asarray(vp["target"])
    classify = ds.task == "classification"
    if classify:
        wrong = pred.reshape(len(index), -1)[:, 0] != target.reshape(len(index), -1)[:, 0]
        conf = np.asarray(vp.get("confidence", np.zeros(len(index)))).reshape(-1)
        order = np.lexsort((-conf, ~wrong))  # wrong first, most confident mistakes first
    else:
        wrong = np.zeros(len(index), dtype=bool)
        order = np.arange(len(index))
    out = []
    for i in order[:limit]:
        image = chw_to_hwc(ds.x_val[int(index[i])]) if ds.kind == "image" else None
        if classify:
            t, p = int(target.reshape(len(index), -1)[i, 0]), int(pred.reshape(len(index), -1)[i, 0])
            name = (lambda c: ds.classes[c] if 0 <= c < len(ds.classes) else str(c))
            out.append(Sample(image, f"✓ {name(p)}" if not wrong[i] else f"✗ {name(p)}",
                              bool(wrong[i]), f"is {name(t)}"))
        else:
            t, p = np.ravel(target[i])[:1], np.ravel(pred[i])[:1]
            out.append(Sample(image, f"pred {float(p[0]):.3g}", False, f"true {float(t[0]):.3g}"))
    return out
