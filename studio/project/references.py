"""Files an imported network refers to (opaque modules from `file:x.py:Class` or
`onnx:x.onnx`) are saved relative to the project file when they sit in its folder
or below, so a project folder can be moved or shared whole; in memory they are
absolute. Only the reference text changes: nothing is read or run here."""
from __future__ import annotations

import os
from pathlib import Path

from studio.graph.blocks import walk


def _split(source: str) -> tuple[str, str, str] | None:
    """(kind, path, rest after the path) of a file-based reference, else None."""
    kind, sep, rest = source.partition(":")
    if not sep:
        return None
    if kind == "file":
        path, sep, cls = rest.rpartition(":")
        return (kind, path, ":" + cls) if sep and path else None
    if kind == "onnx" and rest:
        return kind, rest, ""
    return None


def _nodes(graph: dict):
    for n in graph.get("nodes", []):
        yield n
        if isinstance(n.get("body"), dict):
            yield from _nodes(n["body"])


def relative_doc(doc: dict, folder: Path) -> dict:
    """`doc` (a project document, changed in place) with references under `folder` relative."""
    base = Path(os.path.realpath(folder))
    for n in _nodes(doc["graph"]):
        parts = _split(n.get("params", {}).get("source", "")) if n.get("type") == "Opaque" else None
        if parts is None or not os.path.isabs(parts[1]):
            continue
        try:
            rel = Path(os.path.realpath(parts[1])).relative_to(base)
        except ValueError:  # outside the project's folder: stays absolute
            continue
        n["params"]["source"] = f"{parts[0]}:{rel.as_posix()}{parts[2]}"
    return doc


def absolute(model, folder: Path) -> None:
    """Make the relative references of a loaded graph (blocks' insides too) absolute
    against the project's folder."""
    for g, nid, _ in walk(model):
        if g.type_of(nid) != "Opaque":
            continue
        params = g.params(nid)
        parts = _split(params["source"])
        if parts is None or os.path.isabs(parts[1]):
            continue
        params["source"] = f"{parts[0]}:{(Path(folder) / parts[1]).resolve()}{parts[2]}"
