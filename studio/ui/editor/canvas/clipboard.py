"""Copy/paste payloads: selected nodes (type, params, position, a block's inside
as a graph document) and the wires between them, as JSON on the system clipboard under our own MIME type (so a
second Studio window can paste), with an in-process copy as a fallback."""
from __future__ import annotations

import atexit
import json

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

from studio.graph.blocks import to_doc
from studio.graph.model import GraphModel

CLIP_MIME = "application/x-studio-nodes"
_last: dict | None = None


def subgraph(model: GraphModel, ids: list[str]) -> dict:
    """The nodes `ids` and the wires between them, as a graph document (blocks with their body);
    pasting checks it whole (commands.read_clip), as it may come from another program."""
    keep = set(ids)
    nodes = []
    for n in ids:
        item = {"id": n, "type": model.type_of(n), "params": dict(model.params(n)), "pos": list(model.pos(n))}
        if model.type_of(n) == "Block":
            item["body"] = to_doc(model.body(n))
        nodes.append(item)
    return {
        "nodes": nodes,
        "edges": [{"src": e.src, "src_port": e.src_port, "dst": e.dst, "dst_port": e.dst_port}
                  for e in model.edges() if e.src in keep and e.dst in keep],
    }


def put(clip: dict) -> None:
    global _last
    _last = clip
    data = QMimeData()
    data.setData(CLIP_MIME, json.dumps(clip).encode("utf-8"))
    data.setText(", ".join(n["type"] for n in clip["nodes"]))
    QApplication.clipboard().setMimeData(data)
    if not getattr(put, "_cleanup", False):
        put._cleanup = True
        atexit.register(_release)


def _release() -> None:
    """Take our data back off the clipboard before the interpreter shuts down:
    left there, Qt frees it during teardown after its Python wrapper is gone,
    and the process segfaults on exit."""
    app = QApplication.instance()
    if app is not None:
        cb = app.clipboard()
        data = cb.mimeData()
        if data is not None and data.hasFormat(CLIP_MIME):
            cb.clear()


def get() -> dict | None:
    data = QApplication.clipboard().mimeData()
    if data is not None and data.hasFormat(CLIP_MIME):
        try:
            clip = json.loads(bytes(data.data(CLIP_MIME)).decode("utf-8"))
            if isinstance(clip, dict) and "nodes" in clip and "edges" in clip:
                return clip
        except (ValueError, UnicodeDecodeError, RecursionError):  # another app's data: never trusted
            pass
    return _last
