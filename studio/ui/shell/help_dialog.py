"""Help ▸ Keyboard and Mouse: the editor's gestures in one table, because node
editors hide most of their power in keys nobody discovers by accident."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLayout, QVBoxLayout

from studio.ui.style import theme

GESTURES = [
    ("Add a layer", "Drag it from the palette or double-click it there; or double-click the canvas / press Tab to search"),
    ("Connect", "Drag from an output port to an input port; drop on empty canvas to pick the next layer"),
    ("Re-route a wire", "Drag its input end to another port; drop it on empty canvas to remove it"),
    ("Break wires", "Alt-click a port"),
    ("Insert on a wire", "Drop a layer onto the wire"),
    ("Select", "Click; Shift/Ctrl-click adds; drag on empty canvas for a rubber band"),
    ("Pan / zoom", "Middle-drag or Space-drag; mouse wheel zooms around the cursor"),
    ("Zoom to fit", "F"),
    ("Auto-layout", "Ctrl+L"),
    ("Undo / redo", "Ctrl+Z / Ctrl+Shift+Z or Ctrl+Y"),
    ("Copy / cut / paste", "Ctrl+C / Ctrl+X / Ctrl+V (wires between copied layers come along)"),
    ("Duplicate / delete", "Ctrl+D / Delete or Backspace"),
    ("Make / ungroup a block", "Ctrl+G on selected layers / Ctrl+Shift+G on a block; right-click a block "
                               "to repeat it or save it to My blocks in the palette"),
    ("Fix a shape error", "Click the red badge on the layer"),
    ("Go inside a block", "Double-click its card, click its ↘ button, or select it and press Enter"),
    ("Leave a block", "Click a name in the bar above the canvas; Esc (nothing selected), Alt+Up or Backspace"),
]


class HelpDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and Mouse")
        c = theme.colors()
        rows = "".join(f"<tr><td style='padding:4px 14px 4px 0; white-space:nowrap'><b>{a}</b></td>"
                       f"<td style='padding:4px 0; color:{c.muted}'>{b}</td></tr>" for a, b in GESTURES)
        label = QLabel(f"<table cellspacing=0>{rows}</table>")
        label.setWordWrap(True)
        label.setFixedWidth(620)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 12)
        lay.addWidget(label)
        lay.addWidget(buttons)
        lay.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
