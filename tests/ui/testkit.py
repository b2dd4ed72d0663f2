"""Drive the real main window with synthesized input, for tests and benches.

Drops come from the palette's own mimeData(), wires are press-move-release
QMouseEvents on the canvas viewport (QTest is unreliable on QGraphicsView),
and parameters are typed into the inspector's editors. Nothing here calls
the model directly, so a passing test means a user could do the same.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QMessageBox

STEP = 260.0  # scene distance between dropped layers


def use_temp_settings(folder) -> None:
    """Point the app's INI settings at `folder` so nothing touches the user's."""
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


def make_window(qtbot, tmp_path, monkeypatch, dark: bool = False, size=(1400, 900)):
    """A shown MainWindow with temp settings; dialogs are recorded, not shown."""
    from studio.ui.shell.main_window import MainWindow
    # Windows of earlier tests wait for deferred deletion; restyling them too
    # (a theme switch) would cost seconds.
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    use_temp_settings(tmp_path / "settings")
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: errors.append(a[1:3]))
    w = MainWindow(dark=dark)
    w.errors = errors
    monkeypatch.setattr(w, "ask_save_changes", lambda: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(w, "ask_stop_training", lambda: True)
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    return w


def open_imported(qtbot, tmp_path, monkeypatch, reference: str, input: str, meta: bool = True):
    """A window showing `reference` (e.g. "torchvision:resnet18") imported on the meta device
    (`meta`; a model from a .py file is built on the CPU)."""
    from studio.importer import import_model, write
    path = tmp_path / "imported.studio.json"
    write(import_model(reference, meta=meta, input=input), path)
    w = make_window(qtbot, tmp_path, monkeypatch)
    assert w.open_path(path, confirm=False)
    QApplication.processEvents()
    return w


def _process() -> None:
    QApplication.processEvents()


def drop_layer(window, layer_type: str, scene_pos: QPointF) -> str:
    """Drag `layer_type` from the palette and drop it at `scene_pos`; returns the new id."""
    canvas = window.canvas
    item = window.palette.item_for(layer_type)
    mime = window.palette.tree.mimeData([item])
    canvas.centerOn(scene_pos)
    vp = canvas.viewport()
    at = QPointF(canvas.mapFromScene(scene_pos))
    shown = canvas.model()  # the top level, or the block shown
    before = set(shown.nodes())
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(at.toPoint(), *args)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted(), "canvas refused the palette drag"
    QApplication.sendEvent(vp, QDragMoveEvent(at.toPoint(), *args))
    QApplication.sendEvent(vp, QDropEvent(at, *args))
    _process()
    new = set(shown.nodes()) - before
    assert len(new) == 1, f"drop of {layer_type} made {new}"
    return new.pop()


def _mouse(vp, kind, pos: QPointF, buttons) -> None:
    button = Qt.MouseButton.LeftButton
    ev = QMouseEvent(kind, pos, QPointF(vp.mapToGlobal(pos.toPoint())),
                     button if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
                     buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, ev)


def drag_wire(window, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> None:
    """Press on src's output port, move in steps, release on dst's input port."""
    canvas = window.canvas
    a = canvas.port_scene_pos(src, src_port, "out")
    b = canvas.port_scene_pos(dst, dst_port, "in")
    canvas.centerOn((a + b) / 2)
    vp = canvas.viewport()
    pa, pb = QPointF(canvas.mapFromScene(a)), QPointF(canvas.mapFromScene(b))
    for p in (pa, pb):
        assert vp.rect().contains(p.toPoint()), "port outside the view; place nodes closer"
    left = Qt.MouseButton.LeftButton
    _mouse(vp, QEvent.Type.MouseButtonPress, pa, left)
    for i in range(1, 6):
        _mouse(vp, QEvent.Type.MouseMove, pa + (pb - pa) * (i / 5), left)
    _mouse(vp, QEvent.Type.MouseButtonRelease, pb, Qt.MouseButton.NoButton)
    _process()


def select(window, nid: str) -> None:
    """Click the node's card header, as a user would, to show it in the inspector."""
    canvas = window.canvas
    rect = canvas.node_scene_rect(nid)
    at = QPointF(rect.center().x(), rect.top() + 8)
    canvas.centerOn(at)
    vp = canvas.viewport()
    p = QPointF(canvas.mapFromScene(at))
    _mouse(vp, QEvent.Type.MouseButtonPress, p, Qt.MouseButton.LeftButton)
    _mouse(vp, QEvent.Type.MouseButtonRelease, p, Qt.MouseButton.NoButton)
    _process()
    assert window.inspector.node_id == nid, f"clicking {nid} selected {canvas.selected_nodes()}"


def edit_param(window, nid: str, name: str, value: Any) -> None:
    """Select `nid` and set `name` through its inspector editor, then finish the edit."""
    if window.inspector.node_id != nid:
        select(window, nid)
    ed = window.inspector.editors[name]
    w, kind = ed.widget, ed.param.kind
    if kind in ("int", "float"):
        w.lineEdit().setText(str(value))  # typed text, committed like Enter / focus-out
        w.interpretText()
        w.editingFinished.emit()
    elif kind == "bool":
        if w.isChecked() != bool(value):
            w.click()
    elif kind == "choice":
        w.setCurrentIndex(w.findData(value))
        w.activated.emit(w.currentIndex())
    else:
        w.setText(value if isinstance(value, str) else str(value) if isinstance(value, int)
                  else ", ".join(str(v) for v in value))
        w.editingFinished.emit()
    _process()


def build_chain(window, layers, origin=QPointF(0, 0)) -> list[str]:
    """Drop (type, {param: value}) layers left to right, wire each to the next,
    and set their parameters in the inspector. Returns the node ids."""
    ids = []
    for i, (type_, _params) in enumerate(layers):
        ids.append(drop_layer(window, type_, origin + QPointF(i * STEP, 0)))
    for a, b in zip(ids, ids[1:]):
        drag_wire(window, a, b)
    for nid, (_type, params) in zip(ids, layers):
        for name, value in params.items():
            edit_param(window, nid, name, value)
    return ids


def structure(model) -> dict:
    """Graph structure up to node ids and positions: types, params, wiring."""
    order = _topo(model)
    index = {n: i for i, n in enumerate(order)}
    nodes = [(model.type_of(n), dict(model.params(n))) for n in order]
    edges = sorted((index[e.src], e.src_port, index[e.dst], e.dst_port) for e in model.edges())
    return {"nodes": nodes, "edges": edges}


def _topo(model) -> list[str]:
    import networkx as nx
    # Deterministic order independent of ids: topological, ties broken by type and params.
    return list(nx.lexicographical_topological_sort(
        model.g, key=lambda n: (model.type_of(n), repr(sorted(model.params(n).items())))))


__all__ = ["make_window", "drop_layer", "drag_wire", "select", "edit_param", "build_chain",
           "structure", "use_temp_settings", "QPoint"]
