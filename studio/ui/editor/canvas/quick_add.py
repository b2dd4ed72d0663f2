"""Quick-add: a small searchable popup listing layer types. Typing filters
(prefix matches first), arrows move, Enter or a click picks, Escape closes."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from studio.graph.layers import CATEGORY, LAYERS
from studio.graph.model import TOP_ONLY



# Where to look first for what usually follows a wire of this kind.
LIKELY_NEXT = {"image": ("Convolution", "Pooling", "Normalization", "Activation"),
               "sequence": ("Recurrent", "Attention", "Normalization", "Activation"),
               "vector": ("Dense & Shape", "Activation", "Normalization", "Input / Output")}
FIRST = {"image": ("Conv2d", "MaxPool2d", "BatchNorm2d", "ReLU", "Flatten"),
         "sequence": ("LSTM", "GRU", "RNN"),
         "vector": ("Linear", "ReLU", "Dropout", "Output")}


def _wire_kind(shape) -> str:
    return "sequence" if shape.seq else "image" if len(shape) == 3 else "vector"


def accepts(layer: str, shape) -> bool:
    """Whether `layer` with its default parameters takes a wire of `shape`."""
    s = LAYERS[layer]
    if not s.inputs:
        return False
    try:
        s.infer(s.defaults(), [shape] * len(s.inputs))
    except Exception:  # noqa: BLE001 - any refusal of shape inference means "does not fit"
        return False
    return True


def matching_layers(text: str, need: str | None = None, shape=None, inside: bool = False) -> list[str]:
    """Layer types whose name, title or category contains `text`; `need` ("in"
    or "out") keeps only layers that have such a port. With the `shape` of a wire
    dropped on the canvas, only layers that accept it, the usual next ones first.
    `inside` a block, the network's own Input and Output are not offered."""
    q = text.strip().lower()
    likely = LIKELY_NEXT[_wire_kind(shape)] if shape is not None else ()
    first = FIRST[_wire_kind(shape)] if shape is not None else ()
    scored = []
    for t, s in LAYERS.items():
        if not s.palette or inside and t in TOP_ONLY:
            continue
        if need in ("in", "both") and not s.inputs or need in ("out", "both") and not s.outputs:
            continue
        if shape is not None and not accepts(t, shape):
            continue
        names = (t.lower(), s.title.lower())
        if not q:
            rank = 0
        elif any(n.startswith(q) for n in names):
            rank = 0
        elif any(q in n for n in names):
            rank = 1
        elif q in s.category.lower() or q in s.description.lower():
            rank = 2
        else:
            continue
        top = first.index(t) if t in first else len(first)
        near = likely.index(s.category) if s.category in likely else len(likely)
        scored.append((rank, top, near, s.title.lower(), t))
    return [t for *_, t in sorted(scored)]


class QuickAddPopup(QFrame):
    chosen = Signal(str)
    closed = Signal()  # however it closed: the canvas takes the keyboard back

    def __init__(self, parent=None, need: str | None = None, dark: bool = False, shape=None,
                 inside: bool = False):
        super().__init__(parent, Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("QuickAddPopup")
        self.need, self.shape, self.inside = need, shape, inside
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setUniformItemSizes(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        lay.addWidget(self.search)
        lay.addWidget(self.list)
        self.resize(240, 300)
        bg, fg, border, sel = (("#2b2f36", "#e7e9ec", "#434953", "#3b5f99") if dark
                               else ("#ffffff", "#1d2128", "#d5d9df", "#dce8fd"))
        self.setStyleSheet(
            f"#QuickAddPopup {{ background: {bg}; border: 1px solid {border}; border-radius: 8px; }}"
            f"QLineEdit {{ background: {bg}; color: {fg}; border: 1px solid {border};"
            f" border-radius: 5px; padding: 4px 6px; }}"
            f"QListWidget {{ background: {bg}; color: {fg}; border: none; outline: none; }}"
            f"QListWidget::item {{ padding: 3px 4px; border-radius: 4px; }}"
            f"QListWidget::item:selected {{ background: {sel}; color: {fg}; }}")
        self.search.textChanged.connect(self._refilter)
        self.search.installEventFilter(self)
        self.list.itemActivated.connect(self._pick)
        self.list.itemClicked.connect(self._pick)
        self._refilter("")

    def _refilter(self, text: str) -> None:
        self.list.clear()
        for t in matching_layers(text, self.need, self.shape, self.inside):
            s = LAYERS[t]
            item = QListWidgetItem(f"{s.title}    ·  {s.category}")
            item.setData(Qt.ItemDataRole.UserRole, t)
            item.setToolTip(s.description)
            item.setData(Qt.ItemDataRole.DecorationRole, _dot_icon(CATEGORY[s.category].colour))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.search and ev.type() == QEvent.Type.KeyPress:
            key = ev.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                self.list.keyPressEvent(ev)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._pick(self.list.currentItem())
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(obj, ev)

    def _pick(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        t = item.data(Qt.ItemDataRole.UserRole)
        self.close()
        self.chosen.emit(t)

    def hideEvent(self, ev) -> None:
        super().hideEvent(ev)
        self.closed.emit()

    def popup_at(self, global_pos: QPoint) -> None:
        self.move(global_pos)
        self.show()
        self.search.setFocus()


_ICONS: dict = {}


def _dot_icon(color: str):
    icon = _ICONS.get(color)
    if icon is None:
        pm = QPixmap(12, 12)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(color))
        p.drawRoundedRect(2, 2, 8, 8, 2.5, 2.5)
        p.end()
        icon = _ICONS[color] = QIcon(pm)
    return icon
