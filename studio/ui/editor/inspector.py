"""The inspector: the selected layer's parameters as typed editors, its
description, inferred shapes, cost, problems and (with a run panel) its
activations; or, with nothing selected, an overview of the whole graph.

Every edit is an undoable SetParam; a value the schema refuses is shown as a
red message under its editor and never reaches the model.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (QFormLayout, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from studio.graph.events import NodeMoved, NodeRemoved, ParamChanged
from studio.graph.layers import spec
from studio.graph.validate import validate

from studio.ui.style import icons
from studio.graph.blocks import counts, node_path, qualified
from studio.ui.editor.inspector_activations import ActivationsSection
from studio.ui.editor.param_editors import ParamEditor

from studio.ui.editor.canvas.commands import SetParam

# Input params that matter for each kind; the rest are hidden to avoid confusion.
INPUT_FIELDS = {"image": {"kind", "channels", "height", "width"},
                "sequence": {"kind", "length", "features"},
                "vector": {"kind", "features"},
                "tokens": {"kind", "length", "vocab"}}


def human(n: int) -> str:
    """1234567 -> '1.23 M'; small numbers stay exact."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e4)):
        if abs(n) >= size:
            return f"{n / (size if unit != 'k' else 1e3):.3g} {unit}"
    return f"{n:,}"


def _label(text: str = "", role: str = "", wrap: bool = False) -> QLabel:
    lab = QLabel(text)
    if role:
        lab.setProperty("role", role)
    lab.setWordWrap(wrap)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lab


NAME_WIDTH = 220  # px: an imported layer's long path must not widen the whole inspector


def _elided(text: str, width: int) -> QLabel:
    """A muted one-line label cut in the middle when too long, the whole text on its tooltip."""
    lab = _label(text, "muted")
    short = lab.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, width)
    if short != text:
        lab.setText(short)
        lab.setToolTip(text)
    return lab


class Inspector(QScrollArea):
    status_message = Signal(str)
    open_block = Signal(str)  # the "Open block" button of a selected block

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.model = None
        self.undo_stack = None
        self.node_id: str | None = None
        self.selection: list[str] = []
        self.editors: dict[str, ParamEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self.rows: dict[str, tuple[QWidget, QWidget]] = {}
        self._locked = False
        self.param_marker = None  # (node path, Param) -> widget beside the editor, or None (sweeps)
        self.activation_feed = None  # the run panel's probe snapshots (see inspector_activations)
        self.activations: ActivationsSection | None = None
        self._activations_open = True
        self._pending = QTimer(self, singleShot=True, interval=0)
        self._pending.timeout.connect(self.refresh)
        self._body: QWidget | None = None
        self.refresh()

    # -- wiring -----------------------------------------------------------------------
    def set_model(self, model, undo_stack, push=None, problems=None) -> None:
        """`push(cmd)` puts a command on the stack (default undo_stack.push);
        `problems()` returns the current validation (default: validate afresh).
        The window passes the canvas's, which validates once per edit anyway."""
        if self.model is not None:
            self.model.unsubscribe(self._on_model_event)
        self.model, self.undo_stack = model, undo_stack
        self._push = push or undo_stack.push
        self._problems = problems or (lambda: validate(model))
        model.subscribe(self._on_model_event)
        self.node_id, self.selection = None, []
        self.rebuild()

    def show_selection(self, ids: list[str]) -> None:
        ids = list(ids)
        node = ids[0] if len(ids) == 1 else None
        if ids == self.selection and node == self.node_id:
            return
        self.selection, self.node_id = ids, node
        self.rebuild()

    def set_activation_feed(self, feed) -> None:
        """Show an Activations section for the selected node, fed by `feed`."""
        self.activation_feed = feed
        self.rebuild()

    def _remember_open(self, on: bool) -> None:
        self._activations_open = on

    def set_locked(self, locked: bool) -> None:
        self._locked = locked
        self.rebuild()

    def _on_model_event(self, ev) -> None:
        nid = self.node_id
        if isinstance(ev, ParamChanged) and ev.id == nid and ev.name in self.editors:
            self.editors[ev.name].set_value(ev.value)
            if self.model.type_of(nid) == "Input" and ev.name == "kind":
                self._show_input_fields()
        elif isinstance(ev, NodeRemoved) and ev.id in self.selection:
            self.selection = [s for s in self.selection if s != ev.id]
            self.node_id = None
            self._schedule(rebuild=True)
            return
        elif isinstance(ev, NodeMoved):
            return
        self._schedule()

    def _schedule(self, rebuild: bool = False) -> None:
        # Coalesce: loading 500 nodes must not re-validate 500 times.
        if rebuild:
            self._needs_rebuild = True
        self._pending.start()

    # -- building ---------------------------------------------------------------------
    def rebuild(self) -> None:
        """Recreate the editors for the current selection (cheap: a few widgets)."""
        self._needs_rebuild = False
        self.editors, self.errors, self.rows = {}, {}, {}
        self.activations = None
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(14, 12, 14, 14)
        lay.setSpacing(4)
        self._dyn: dict[str, QLabel] = {}
        if self.model is not None and self.node_id is not None and self.node_id in self.model.g:
            self._build_node(lay, self.node_id)
        else:
            self._build_overview(lay)
        lay.addStretch(1)
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.setWidget(body)
        self._body = body
        self.refresh()

    def _section(self, lay: QVBoxLayout, title: str) -> None:
        lay.addWidget(_label(title.upper(), "section"))

    def _build_node(self, lay: QVBoxLayout, nid: str) -> None:
        s = spec(self.model.type_of(nid))
        head = QHBoxLayout()
        ic = QLabel()
        ic.setPixmap(icons.layer_icon(s).pixmap(QSize(28, 28)))
        head.addWidget(ic, 0, Qt.AlignmentFlag.AlignTop)
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(_label(s.title, "title"))
        names.addWidget(_elided(f"{nid} · {s.category}", NAME_WIDTH))
        head.addLayout(names, 1)
        lay.addLayout(head)
        lay.addSpacing(4)
        lay.addWidget(_label(s.description, "muted", wrap=True))
        if s.type == "Block":
            go = QPushButton("Open block")
            go.setObjectName("open_block")
            go.setToolTip("Show this block's layers on the canvas (or double-click its card)")
            go.clicked.connect(lambda: self.open_block.emit(nid))
            lay.addWidget(go, 0, Qt.AlignmentFlag.AlignLeft)
        if self._locked:
            lay.addWidget(_label("Editing is locked while the model trains.", "caption", wrap=True))
        if s.type == "Input":
            lay.addWidget(_label("The dataset sets this shape when you train; these values "
                                 "let you draw and check the network before that.", "caption", wrap=True))
        if s.params:
            self._section(lay, "Parameters")
            form = QFormLayout()
            form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
            form.setHorizontalSpacing(12)
            form.setVerticalSpacing(8)
            params = self.model.params(nid)
            for p in s.params:
                ed = ParamEditor(p, lambda v, name=p.name: self._commit(name, v))
                ed.set_value(params[p.name])
                ed.widget.setEnabled(not self._locked)
                field = QWidget()
                fl = QVBoxLayout(field)
                fl.setContentsMargins(0, 0, 0, 0)
                fl.setSpacing(2)
                # sweeps name a layer inside a block by its path from the top level
                marker = self.param_marker(node_path(self.model, nid), p) if self.param_marker else None
                if marker is None:
                    fl.addWidget(ed.widget)
                else:  # the sweep's search marker beside the editor
                    pair = QHBoxLayout()
                    pair.addWidget(ed.widget, 1)
                    pair.addWidget(marker)
                    fl.addLayout(pair)
                cap = _label(p.help, "caption", wrap=True)
                fl.addWidget(cap)
                err = _label("", "error", wrap=True)
                err.hide()
                fl.addWidget(err)
                title = "" if p.kind == "bool" else p.title
                lab = QLabel(title)
                lab.setToolTip(p.help)
                form.addRow(lab, field)
                self.editors[p.name], self.errors[p.name] = ed, err
                self.rows[p.name] = (lab, field)
            lay.addLayout(form)
            if s.type == "Input":
                self._show_input_fields()
        self._section(lay, "Shapes")
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        for row, key in enumerate(("In", "Out")):
            grid.addWidget(_label(key, "muted"), row, 0)
            self._dyn[key] = _label(wrap=True)
            grid.addWidget(self._dyn[key], row, 1)
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        self._section(lay, "Cost")
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        for row, key in enumerate(("Parameters", "Mult-adds")):
            grid.addWidget(_label(key, "muted"), row, 0)
            self._dyn[key] = _label()
            grid.addWidget(self._dyn[key], row, 1)
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        self._dyn["problems_title"] = _label("PROBLEMS", "section")
        lay.addWidget(self._dyn["problems_title"])
        self._dyn["problems"] = _label("", "error", wrap=True)
        lay.addWidget(self._dyn["problems"])
        # probes record every layer by its module path, inside blocks too (block.layer)
        if self.activation_feed is not None and s.type not in ("Input", "Output", "BlockInput", "BlockOutput"):
            self.activations = ActivationsSection(self.activation_feed, qualified(self.model, nid),
                                                  self._activations_open,
                                                  self._locked, self._remember_open)
            lay.addWidget(self.activations)

    def _build_overview(self, lay: QVBoxLayout) -> None:
        n_sel = len(self.selection)
        where = self.model.parent if self.model is not None else None
        title = "Graph overview" if where is None else \
            f"Inside {where[0].params(where[1]).get('name') or where[1]}"  # a block's body
        lay.addWidget(_label(title if n_sel < 2 else f"{n_sel} layers selected", "title"))
        lay.addWidget(_label("Select a layer to edit its parameters." if n_sel < 2 else
                             "Select one layer to edit its parameters.", "muted", wrap=True))
        lay.addSpacing(6)
        card = QFrame()
        card.setProperty("role", "card")
        grid = QGridLayout(card)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(2)
        for i, key in enumerate(("Layers", "Parameters", "Mult-adds", "Problems")):
            r, c = divmod(i, 2)
            self._dyn[key] = _label("–", "stat")
            grid.addWidget(self._dyn[key], r * 2, c)
            grid.addWidget(_label(key, "caption"), r * 2 + 1, c)
        lay.addWidget(card)
        self._dyn["problems_title"] = _label("PROBLEMS", "section")
        lay.addWidget(self._dyn["problems_title"])
        self._dyn["problems"] = _label("", "error", wrap=True)
        lay.addWidget(self._dyn["problems"])

    def _show_input_fields(self) -> None:
        kind = self.model.params(self.node_id)["kind"]
        keep = INPUT_FIELDS.get(kind, set(self.rows))
        for name, (lab, field) in self.rows.items():
            lab.setVisible(name in keep)
            field.setVisible(name in keep)

    # -- refreshing the numbers -------------------------------------------------------------
    def refresh(self) -> None:
        """Update shapes, cost and problems without recreating editors."""
        if getattr(self, "_needs_rebuild", False):
            self.rebuild()
            return
        if not hasattr(self, "_dyn"):
            return
        m = self.model
        if m is None:
            return
        if self.node_id is not None and self.node_id in m.g:
            self._refresh_node(self.node_id)
        elif "Layers" in self._dyn:
            self._refresh_overview()

    def _refresh_node(self, nid: str) -> None:
        m = self.model
        info = m.shapes.info.get(nid)
        s = spec(m.type_of(nid))
        ins = " + ".join(x.full() for x in info.inputs) if info and info.inputs else (
            "from the dataset" if s.type == "Input" else "not connected")
        out = info.out.full() if info and info.out else ("none" if not s.outputs else "unknown")
        self._dyn["In"].setText(ins)
        self._dyn["Out"].setText(out)
        self._dyn["Parameters"].setText(f"{info.weights:,}" if info else "0")
        self._dyn["Mult-adds"].setText(human(info.macs) if info else "0")
        problems = [p for p in self._problems() if p.node == nid]
        self._set_problems(problems)

    def _refresh_overview(self) -> None:
        m = self.model
        weights, macs = m.shapes.totals()
        problems = self._problems()
        layers, blocks = counts(m)
        self._dyn["Layers"].setText(str(layers))
        self._dyn["Layers"].setToolTip(f"{layers} layers, {blocks} blocks among them" if blocks else
                                       f"{layers} layers")
        self._dyn["Parameters"].setText(human(weights))
        self._dyn["Parameters"].setToolTip(f"{weights:,} trainable parameters")
        self._dyn["Mult-adds"].setText(human(macs))
        self._dyn["Mult-adds"].setToolTip(f"{macs:,} multiply-adds per example")
        stat = self._dyn["Problems"]
        stat.setText(str(len(problems)))
        role = "stat_error" if problems else "stat"
        if stat.property("role") != role:  # re-polish only when the colour changes
            stat.setProperty("role", role)
            stat.style().unpolish(stat)
            stat.style().polish(stat)
        self._set_problems(problems[:12], more=len(problems) - 12)

    def _set_problems(self, problems, more: int = 0) -> None:
        title, lab = self._dyn["problems_title"], self._dyn["problems"]
        title.setVisible(bool(problems))
        lab.setVisible(bool(problems))
        lines = [f"• {html.escape(str(p) if self.node_id is None else p.message, quote=False)}" for p in problems]
        if more > 0:
            lines.append(f"… and {more} more")
        lab.setText("<br>".join(lines))

    # -- editing ----------------------------------------------------------------------------
    def _commit(self, name: str, value) -> None:
        nid, m = self.node_id, self.model
        if nid is None or m is None or nid not in m.g or self._locked:
            return
        ed, err = self.editors[name], self.errors[name]
        p = spec(m.type_of(nid)).param(name)
        try:
            if isinstance(value, Exception):
                raise value
            value = p.check(value)
        except ValueError as e:
            msg = f"{p.title}: {e}"
            err.setText(msg)
            err.show()
            ed.set_invalid(True)
            self.status_message.emit(f"Not changed: {msg}")
            return
        err.hide()
        ed.set_invalid(False)
        if m.params(nid)[name] == value:
            return
        self._push(SetParam(m, nid, name, value))
