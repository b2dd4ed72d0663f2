"""File ▸ Import Model…: torchvision's classification architectures with their
parameters and mult-adds (from torchvision's own weight metadata, so the list
costs nothing to show), or a file: the user's own .py module (after asking,
since importing it runs that code) or an ONNX model."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout)


def gallery() -> list[tuple[str, int, float]]:
    """(name, parameters, GFLOPs per 224×224 image) for every torchvision classifier."""
    from torchvision import models
    rows = []
    for name in models.list_models(module=models):
        try:
            meta = models.get_model_weights(name).DEFAULT.meta
            rows.append((name, int(meta.get("num_params", 0)), float(meta.get("_ops", 0.0))))
        except Exception:  # noqa: BLE001 - a model without published weights: still importable
            rows.append((name, 0, 0.0))
    return rows


class ImportDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import Model")
        self.resize(560, 520)
        self.file_spec: str | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Choose a torchvision architecture (random weights), or import a file."))
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter, e.g. resnet")
        self.filter.textChanged.connect(self._apply_filter)
        lay.addWidget(self.filter)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Architecture", "Parameters", "Mult-adds (G)"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        for name, params, ops in gallery():
            r = self.table.rowCount()
            self.table.insertRow(r)
            self.table.setItem(r, 0, QTableWidgetItem(name))
            for c, text in ((1, f"{params / 1e6:.1f} M" if params else "?"), (2, f"{ops:.2f}" if ops else "?")):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self.accept)
        lay.addWidget(self.table, 1)
        form = QFormLayout()
        self.classes = QSpinBox()
        self.classes.setRange(0, 100000)
        self.classes.setSpecialValueText("as the model (1000)")
        form.addRow("Classes", self.classes)
        self.size = QSpinBox()
        self.size.setRange(16, 1024)
        self.size.setValue(224)
        form.addRow("Input size", self.size)
        self.blocks = QCheckBox("One block per submodule (e.g. ResNet's layer1)")
        self.blocks.setChecked(True)
        self.blocks.setToolTip("Unchecked: every layer on one flat canvas")
        form.addRow("Structure", self.blocks)
        lay.addLayout(form)
        row = QHBoxLayout()
        from_file = QPushButton("From file…")
        from_file.setToolTip("Your own nn.Module (.py: runs that file's code) or an ONNX model")
        from_file.clicked.connect(self._from_file)
        row.addWidget(from_file)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        row.addStretch(1)
        row.addWidget(buttons)
        lay.addLayout(row)
        self.table.selectRow(0)

    def _apply_filter(self, text: str) -> None:
        q = text.strip().lower()
        for r in range(self.table.rowCount()):
            self.table.setRowHidden(r, q not in self.table.item(r, 0).text())

    def select(self, name: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == name:
                self.table.selectRow(r)

    def _from_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import model", str(Path.home()),
                                              "Models (*.py *.onnx);;All files (*)")
        if not path:
            return
        if path.endswith(".py"):
            cls, ok = QInputDialog.getText(self, "Import model", "Name of the nn.Module class in the file:")
            if not ok or not cls.strip():
                return
            path = f"{path}:{cls.strip()}"
        self.file_spec = path
        self.accept()

    def spec(self) -> str | None:
        if self.file_spec:
            return self.file_spec
        rows = self.table.selectionModel().selectedRows()
        return f"torchvision:{self.table.item(rows[0].row(), 0).text()}" if rows else None

    def options(self) -> dict:
        out = {"input": f"image:3,{self.size.value()},{self.size.value()}"}
        if self.classes.value():
            out["num_classes"] = self.classes.value()
        if not self.blocks.isChecked():
            out["flat"] = True
        if self.file_spec and not self.file_spec.endswith(".py"):
            out.pop("input")  # an ONNX file declares its input
        return out


def consent_to_run(parent, spec: str) -> bool:
    path, _, cls = spec.rpartition(":")
    answer = QMessageBox.question(
        parent, "Run this Python file?",
        f"Importing {cls} runs the Python code in\n{path}.\n\nOnly continue if you trust this file.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def run_import(window) -> bool:
    """The whole File ▸ Import Model… flow; True when a project was imported and opened."""
    from studio.importer import ImportFailed, import_model, write
    if window.editing_locked or not window.confirm_discard():
        return False
    dlg = ImportDialog(window)
    if not dlg.exec() or not (spec := dlg.spec()):
        return False
    if ".py:" in spec and not consent_to_run(window, spec):
        return False
    name = spec.rsplit(":", 1)[-1] if spec.startswith("torchvision:") or ".py:" in spec else Path(spec).stem
    path, _ = QFileDialog.getSaveFileName(window, "Save imported project", str(Path.home() / f"{name}.studio.json"),
                                          "Studio projects (*.studio.json)")
    if not path:
        return False
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        result = import_model(spec, **dlg.options())
        write(result, path)
    except (ImportFailed, ValueError, OSError) as e:
        QGuiApplication.restoreOverrideCursor()
        window.show_error("Cannot import the model", str(e))
        return False
    QGuiApplication.restoreOverrideCursor()
    if not window.open_path(path, confirm=False):
        return False
    window.show_status(f"Imported {result.summary()}" + (" — weights in " + Path(path).name.replace(
        ".studio.json", ".weights.safetensors") if result.state else ""))
    return True


def untrusted_files(project) -> list[Path]:
    """Python files the project's opaque nodes (blocks' insides too) would need to run (not yet allowed)."""
    from studio.graph.blocks import walk
    from studio.graph.opaque import is_trusted, split_file_source
    out = []
    for m, nid, _ in walk(project.model):
        if m.type_of(nid) != "Opaque":
            continue
        kind, _, rest = m.params(nid)["source"].partition(":")
        if kind == "file":
            try:
                path, _ = split_file_source(rest)
            except ValueError:
                continue
            if not is_trusted(path) and path not in out:
                out.append(path)
    return out


def ask_trust(window) -> None:
    """After opening a project: ask before any of its referenced Python files may run.
    Nothing runs until then; a refusal leaves those modules unbuildable (training says so)."""
    from studio.graph.opaque import trust
    files = untrusted_files(window.project)
    if not files:
        return
    names = "\n".join(str(f) for f in files)
    answer = QMessageBox.question(
        window, "Allow this project's Python code?",
        f"This network keeps modules imported from:\n{names}\n\nTraining or exporting it runs that "
        "code. Allow it for this session? (Opening and editing never run it.)",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    if answer == QMessageBox.StandardButton.Yes:
        for f in files:
            trust(f)
