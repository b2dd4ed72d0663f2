"""The Dataset group of the run settings form: which dataset, where its files
are, how it is split and augmented, and Download / Preview, which load it in
a thread (ui/run/dataload.py) without starting a run.

Its numeric fields come from the same SettingFields as the training ones (one
binding to `project.data`, one kind of undo command); this module owns the
fields that depend on the dataset kind, and the loading.
"""
from __future__ import annotations

import html

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QWidget)

from studio.settings import DATASET_KINDS

TEXT_KEYS = ("root", "path", "target", "dataset")  # shown by show_text, not by a bound field


IMAGE_DATASETS = ("cifar10", "mnist", "fashion_mnist", "image_folder", "shapes", "digits")

class DatasetSection(QGroupBox):
    loaded = Signal(object)    # a Dataset, from Download/Preview

    def __init__(self, fields):
        super().__init__("Dataset")
        self.fields = fields
        self._loader = None
        self.loaded_key: tuple | None = None  # datafit.load_key of the last load
        self.datasets = {k.key: (k.title, k.text, k.needs_path, k.offline) for k in DATASET_KINDS}
        self.generated = {k.key for k in DATASET_KINDS if k.generated}

        self.dataset = QComboBox()
        for key, (title, _text, _np, offline) in self.datasets.items():
            self.dataset.addItem(title if offline else f"{title} (download)", key)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setProperty("role", "muted")
        self.root = QLineEdit()
        self.root.setPlaceholderText("~/.studio/data")
        self.root_browse = QPushButton("…")
        self.root_browse.setToolTip("Choose the folder that holds the dataset")
        self.download = QPushButton("Download")
        self.download.setToolTip("Download the dataset now (it is also downloaded when training starts)")
        self.path = QLineEdit()
        self.path_browse = QPushButton("…")
        self.target = QLineEdit()
        for b in (self.root_browse, self.path_browse):  # leave the width to the path itself
            b.setFixedWidth(32)
        self.target.setPlaceholderText("last column")
        self.load_bar = QProgressBar()
        self.load_bar.setTextVisible(True)
        self.load_bar.hide()
        self.load_message = QLabel()
        self.load_message.setWordWrap(True)
        self.preview_button = QPushButton("Preview samples")

        df = self.rows = QFormLayout(self)
        df.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        df.addRow(self.dataset)
        df.addRow(self.about)
        self.root_row = _row(self.root, self.root_browse, self.download)
        df.addRow("Folder", self.root_row)
        self.path_row = _row(self.path, self.path_browse)
        df.addRow("Path", self.path_row)
        df.addRow("Target column", self.target)
        f = fields
        df.addRow("Image size", f.int_field("data", "image_size", 4, 4096))
        df.addRow("Examples", f.int_field("data", "samples", 10, 10**8, tip="Size of a generated dataset"))
        df.addRow("Use only", f.int_field("data", "limit", 0, 10**9, special="all",
                                          tip="Train on the first N examples only (0 = all): a quick try"))
        df.addRow("Validation split", f.float_field("data", "val_split", 0.0, 0.9, 0.05, 2))
        df.addRow("", f.check_field("data", "use_test_split", "Validate on the test split", tip=(
            "Use the dataset's own test split for validation when it has one; otherwise the split above")))
        df.addRow("Crop padding", f.int_field("data", "augment_crop", 0, 64, special="off",
                                              tip="Random-crop augmentation: pad by N pixels, crop back"))
        df.addRow("", f.check_field("data", "augment_flip", "Random horizontal flips"))
        df.addRow(self.load_bar)
        df.addRow(self.load_message)
        df.addRow(self.preview_button)

        self.dataset.currentIndexChanged.connect(self._on_dataset_picked)
        self.root.editingFinished.connect(self._on_root_edited)
        self.path.editingFinished.connect(self._on_path_edited)
        self.target.editingFinished.connect(self._on_target_edited)
        self.root_browse.clicked.connect(self._browse_root)
        self.path_browse.clicked.connect(self._browse_path)
        self.download.clicked.connect(self.load_preview)
        self.preview_button.clicked.connect(self.load_preview)

    # -- showing the project's values ------------------------------------------------------
    def show_text(self, key: str, value: str) -> None:
        """root / path / target, or the dataset choice, without re-emitting an edit."""
        if key == "dataset":
            self.dataset.blockSignals(True)
            self.dataset.setCurrentIndex(max(0, self.dataset.findData(value)))
            self.dataset.blockSignals(False)
        else:
            getattr(self, key).setText(value)

    def update_visibility(self, data) -> None:
        key = data.dataset
        _title, text, needs_path, offline = self.datasets.get(key, (key, "", False, True))
        self.about.setText(text)
        w = self.fields.widget
        self.rows.setRowVisible(self.root_row, not offline)  # where the download goes
        self.rows.setRowVisible(self.path_row, needs_path)
        self.rows.setRowVisible(self.target, key == "csv")
        self.rows.setRowVisible(w("data", "image_size"), key == "image_folder")
        self.rows.setRowVisible(w("data", "samples"), key in self.generated)
        images = key in IMAGE_DATASETS  # crops and flips mean nothing to a sequence or a table
        self.rows.setRowVisible(w("data", "augment_crop"), images)
        self.rows.setRowVisible(w("data", "augment_flip"), images)
        self.path.setPlaceholderText("a CSV file" if key == "csv" else "a folder with one subfolder per class")
        self.path_browse.setToolTip("Choose the CSV file" if key == "csv" else "Choose the image folder")

    # -- user edits --------------------------------------------------------------------------
    @Slot(int)
    def _on_dataset_picked(self, index: int) -> None:
        self.fields.edit("data", "dataset", self.dataset.itemData(index))

    @Slot()
    def _on_root_edited(self) -> None:
        self.fields.edit("data", "root", self.root.text().strip())

    @Slot()
    def _on_path_edited(self) -> None:
        self.fields.edit("data", "path", self.path.text().strip())

    @Slot()
    def _on_target_edited(self) -> None:
        self.fields.edit("data", "target", self.target.text().strip())

    @Slot()
    def _browse_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for downloaded datasets", self.root.text())
        if folder:
            self.fields.edit("data", "root", folder)

    @Slot()
    def _browse_path(self) -> None:
        start = self.path.text() or str(Path.home())
        if self.fields.project.data.dataset == "csv":
            path, _ = QFileDialog.getOpenFileName(self, "CSV file", start, "CSV files (*.csv);;All files (*)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Image folder (one subfolder per class)", start)
        if path:
            self.fields.edit("data", "path", path)

    # -- preview / download ----------------------------------------------------------------
    @Slot()
    def load_preview(self) -> None:
        """Load (downloading if needed) in a thread; `loaded` hands over the result."""
        from studio.ui.run.dataload import DatasetLoader
        if self.fields.project is None or self._loader is not None:
            return
        self._loader = DatasetLoader(self.fields.project.data, self)
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
        from studio.ui.run.datafit import load_key
        self.load_message.setText(f"{dataset.name}: {len(dataset.x_train):,} training, "
                                  f"{len(dataset.x_val):,} validation examples")
        # What was loaded, which the user may have changed meanwhile.
        self.loaded_key = load_key(self._loader.settings) if self._loader is not None else None
        self.loaded.emit(dataset)

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        text = html.escape(message).replace("\n", "<br>")  # the whole message, its line breaks kept
        self.load_message.setText(f"<span style='color:#b00'>{text}</span>")

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
