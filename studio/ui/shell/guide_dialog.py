"""Help ▸ Getting Started (the five steps from nothing to an exported model) and
Help ▸ About (the versions a bug report needs: Studio, torch, Qt, the device).

The pictures are the app's own line icons for each step, drawn large; they are
not screenshots."""
from __future__ import annotations

import os
import platform

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGridLayout, QLabel, QLayout, QVBoxLayout)

from studio.ui.style import icons, theme

STEPS = [
    ("samples", "Start from a sample, or an Input",
     "File ▸ Open Sample… opens a ready-made network. Or start blank: drag an Input from the Layers palette."),
    ("conv", "Add layers",
     "Drag layers from the palette onto the canvas, or press Tab on the canvas and type a name. "
     "Drop a layer on a wire to insert it there."),
    ("shape", "Wire them, and read the shapes",
     "Drag from an output port to an input port. Every wire shows the tensor shape it carries; "
     "a red badge explains a problem, and clicking it applies the fix."),
    ("train", "Train",
     "In the Training panel choose a dataset (Shapes and Waves need no download) and press Train (Ctrl+T). "
     "Loss and accuracy curves move as it learns."),
    ("export", "Look at the results, then export",
     "The Results tab shows the confusion matrix and the examples it got wrong. "
     "File ▸ Export saves the weights, ONNX, or the network as plain PyTorch code."),
]


class GettingStartedDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Getting Started")
        c = theme.colors()
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(12)
        self.pictures: list[QLabel] = []
        for row, (icon, title, text) in enumerate(STEPS):
            picture = QLabel()
            picture.setPixmap(icons.icon(icon).pixmap(48, 48))
            self.pictures.append(picture)
            words = QLabel(f"<b>{row + 1}. {title}</b><br><span style='color:{c.muted}'>{text}</span>")
            words.setWordWrap(True)
            words.setFixedWidth(460)
            grid.addWidget(picture, row, 0)
            grid.addWidget(words, row, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 12)
        lay.addLayout(grid)
        lay.addWidget(buttons)
        lay.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)


def versions() -> list[tuple[str, str]]:
    """(what, version) for the About box."""
    import PySide6
    import torch
    from PySide6.QtCore import qVersion
    from importlib.metadata import PackageNotFoundError, version
    try:
        studio_version = version("studio")
    except PackageNotFoundError:
        studio_version = "source checkout"
    if torch.cuda.is_available():
        device = f"CUDA {torch.version.cuda}: {torch.cuda.get_device_name(0)}"
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        device = "Apple GPU (MPS)"
    else:
        device = f"CPU only, {os.cpu_count() or 1} cores"
    return [("Studio", studio_version), ("PyTorch", torch.__version__), ("Qt", qVersion()),
            ("PySide6", PySide6.__version__), ("Python", platform.python_version()),
            ("Device", device), ("System", platform.platform(terse=True))]


class AboutDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Studio")
        rows = "".join(f"<tr><td style='padding:2px 14px 2px 0'><b>{a}</b></td><td>{b}</td></tr>"
                       for a, b in versions())
        self.text = QLabel("<p style='font-size:15px'><b>Studio</b></p>"
                           "<p>Build neural networks by drawing them, train them in PyTorch, export them.</p>"
                           f"<table cellspacing=0>{rows}</table>")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 12)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        lay.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
