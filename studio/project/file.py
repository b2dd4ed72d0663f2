"""Project files (*.studio.json): versioned JSON holding the graph, node
positions, dataset settings and training settings.

Loading checks the whole document before building anything, so a bad file
gives one ProjectError naming the file and the place, never a partial graph.
Nothing here executes code from the file.
"""
from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

from studio import fileio
from studio.fileio import clean_orphans
from studio.graph.layers import LAYERS
from studio.graph.model import MAX_DEPTH, GraphError, GraphModel, id_problem
from studio.project.model import FORMAT, VERSION, Project  # noqa: F401 - re-exported
from studio.project.references import absolute, relative_doc
from studio.project.search_space import SearchSpaceError, parse as parse_sweep
from studio.settings import DataSettings, SettingsError, TrainSettings, from_dict

MAX_BYTES = 50 * 1024 * 1024


class ProjectError(ValueError):
    """A project file cannot be read or written; the message names the file and place."""


def dumps(project: Project, folder: Path | None = None) -> str:
    """The document as text; `folder`: the file's folder, for relative references."""
    doc = project.to_dict()
    if folder is not None:
        doc = relative_doc(doc, folder)
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in some text: \u escapes keep the file valid UTF-8
        text = json.dumps(doc, indent=2)
    return text + "\n"


def save(project: Project, path: str | os.PathLike) -> Path:
    """Atomic save: write a temporary file beside the target, fsync, then rename."""
    path = Path(path)
    data = dumps(project, path.parent).encode("utf-8")  # dumps escapes what UTF-8 cannot hold
    write_atomic(path, data)
    project.path = path
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """The one atomic writer (studio.fileio), with its failures as ProjectError.
    Orphaned temp files of this project from a killed save are removed first.
    Unlike exports, a symlinked project is followed (a link to a device is still refused)."""
    path = Path(path)
    if path.is_symlink():  # a linked project is saved into the file it links to, as editors do
        path = Path(os.path.realpath(path))
    try:
        fileio.check_target(path)
        clean_orphans(path.parent or ".", path.name)
        fileio.write_atomic(path, data, make_parents=False)  # saving into a missing folder is an error
    except fileio.WriteError as e:
        raise ProjectError(f"Cannot save {path}: {e.reason}") from None


def load(path: str | os.PathLike) -> Project:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ProjectError(f"{path}: the file is larger than {MAX_BYTES >> 20} MB; is it a project?")
        # Only a regular file, and never more than MAX_BYTES: a FIFO or /dev/zero reports size 0.
        raw = fileio.read_regular(path, MAX_BYTES)
    except ProjectError:
        raise
    except OSError as e:
        raise ProjectError(f"{path}: cannot read the file ({e.strerror or e})") from None
    except fileio.FileFormatError as e:
        raise ProjectError(str(e)) from None
    project = loads(raw, str(path))
    absolute(project.model, path.parent)
    project.path = path
    return project


def loads(raw: bytes | str, where: str = "<project>") -> Project:
    try:
        # utf-8-sig: editors on Windows often prepend a byte-order mark.
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        doc = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError as e:
        raise ProjectError(f"{where}: not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise ProjectError(f"{where}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except (ValueError, RecursionError) as e:
        raise ProjectError(f"{where}: not valid JSON: {e}") from None
    try:
        return from_document(doc, where)
    except RecursionError:
        raise ProjectError(f"{where}: the document is nested too deeply") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a project file")


def _need(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise ProjectError(f"{where}: {msg}")


def from_document(doc: Any, where: str = "<project>") -> Project:
    _need(isinstance(doc, dict), where, "the top level must be a JSON object")
    _need("format" in doc, where, 'missing "format": is this a Studio project?')
    _need(doc.get("format") == FORMAT, where, f'"format" must be "{FORMAT}"; is this a Studio project?')
    _need("version" in doc, where, 'missing "version"')
    version = doc.get("version")
    _need(isinstance(version, int) and not isinstance(version, bool), where, '"version" must be a whole number')
    _need(version <= VERSION, where, f"format version {version} is newer than this Studio reads "
                                     f"(up to {VERSION}); please update Studio")
    _need(version >= 1, where, f"format version {version} is not valid")
    for key in ("name", "description"):
        _need(isinstance(doc.get(key, ""), str), where, f'"{key}" must be text')
    doc = migrate(doc, version)
    _need("graph" in doc, where, 'missing "graph"')
    model = build_graph(doc["graph"], where)
    try:
        data = from_dict(DataSettings, doc.get("data", {}), "data")
        train = from_dict(TrainSettings, doc.get("training", {}), "training")
    except SettingsError as e:
        raise ProjectError(f"{where}: {e}") from None
    sweep = None
    if "sweep" in doc:  # optional: files without it load unchanged
        try:
            sweep = parse_sweep(doc["sweep"], model)
        except SearchSpaceError as e:
            raise ProjectError(f"{where}: {e}") from None
    return Project(model=model, data=data, train=train, name=doc.get("name", "Untitled"),
                   description=doc.get("description", ""), sweep=sweep)


def migrate(doc: dict, version: int) -> dict:
    """The document in the current format. Version 1 had no blocks, so its graph
    reads unchanged as version 2; each later change adds a step here."""
    if version == 1:
        doc = dict(doc, version=2)
    return doc


def build_graph(graph: Any, where: str, body: bool = False, depth: int = 0) -> GraphModel:
    """A GraphModel from a document's "graph" (or a block's "body"), checked whole first."""
    label = "body" if body else "graph"
    _need(isinstance(graph, dict), where, f'"{label}" must be an object')
    for key in ("nodes", "edges"):
        _need(key in graph, where, f'{label}: missing "{key}"')
        _need(isinstance(graph[key], list), where, f'{label}.{key} must be a list')
    nodes, edges = graph["nodes"], graph["edges"]
    checked_nodes = [_check_node(n, f"{where}: {label}.nodes[{i}]") for i, n in enumerate(nodes)]
    ids = [n[0] for n in checked_nodes]
    seen: set[str] = set()
    for i, nid in enumerate(ids):
        _need(nid not in seen, where, f'{label}.nodes[{i}]: duplicate node id "{nid}"')
        seen.add(nid)
    types = dict((n[0], n[1]) for n in checked_nodes)
    checked_edges = [_check_edge(e, types, f"{where}: {label}.edges[{i}]") for i, e in enumerate(edges)]
    seen_e: set[str] = set()
    for i, e in enumerate(checked_edges):
        _need(e[0] is None or e[0] not in seen_e, where, f'{label}.edges[{i}]: duplicate edge id "{e[0]}"')
        seen_e.add(e[0])
    # Wires saved without an id get fresh ones that cannot collide with later explicit ids.
    fresh = (f"e{i}" for i in itertools.count(1))
    checked_edges = [(e[0] or next(x for x in fresh if x not in seen_e),) + e[1:] for e in checked_edges]
    bodies = {}
    for i, (nid, type_, _params, _pos) in enumerate(checked_nodes):
        raw = nodes[i].get("body")
        if type_ != "Block":
            _need(raw is None, where, f'{label}.nodes[{i}] ({nid}): only a Block has a "body"')
        elif raw is not None:
            _need(depth + 1 < MAX_DEPTH, where, f"{label}.nodes[{i}] ({nid}): blocks are nested more than "
                                                f"{MAX_DEPTH} deep")
            bodies[nid] = build_graph(raw, f"{where}: {label}.nodes[{i}] ({nid})", True, depth + 1)
    model = GraphModel(body=body)
    try:
        for nid, type_, params, pos in checked_nodes:
            model.add_node(type_, params, pos, nid=nid, body=bodies.get(nid))
        for eid, src, sp, dst, dp in checked_edges:
            model.connect(src, sp, dst, dp, eid=eid)
    except GraphError as e:  # e.g. the same wire twice, an Input inside a block
        raise ProjectError(f"{where}: {label}: {e}") from None
    return model


def _check_node(n: Any, where: str):
    _need(isinstance(n, dict), where, "must be an object")
    for key in ("id", "type"):
        _need(key in n, where, f'missing "{key}"')
    nid, type_ = n.get("id"), n.get("type")
    why = id_problem(nid)
    _need(why is None, where, f'"id": {why}')
    where = f"{where} ({nid})"
    _need(isinstance(type_, str), where, '"type" must be text')
    _need(type_ in LAYERS, where, f'unknown layer type "{type_}"')
    spec = LAYERS[type_]
    params = n.get("params", {})
    _need(isinstance(params, dict), where, '"params" must be an object')
    out = {}
    for k, v in params.items():
        try:
            p = spec.param(k)
        except KeyError:
            raise ProjectError(f'{where}: {type_} has no parameter "{k}"') from None
        try:
            out[k] = p.check(v)
        except ValueError as e:
            raise ProjectError(f"{where}: {e}") from None
    pos = n.get("pos", [0, 0])
    # abs() < 1e7 also rejects NaN, inf, and ints too big for a float.
    _need(isinstance(pos, list) and len(pos) == 2
          and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                  and abs(x) < 1e7 for x in pos), where, '"pos" must be two numbers')
    return nid, type_, out, (float(pos[0]), float(pos[1]))


def _check_edge(e: Any, types: dict, where: str):
    _need(isinstance(e, dict), where, "must be an object")
    for key in ("src", "dst"):
        _need(key in e, where, f'missing "{key}"')
    eid = e.get("id")
    _need(eid is None or (isinstance(eid, str) and eid.isidentifier()), where, '"id" must be a name')
    src, dst = e.get("src"), e.get("dst")
    sp, dp = e.get("src_port", "out"), e.get("dst_port", "in")
    for label, v in (("src", src), ("dst", dst), ("src_port", sp), ("dst_port", dp)):
        _need(isinstance(v, str), where, f'"{label}" must be text')
    _need(src in types, where, f'the wire starts at "{src}", which is not a node')
    _need(dst in types, where, f'the wire ends at "{dst}", which is not a node')
    _need(sp in LAYERS[types[src]].port_names("out"), where, f'{src} has no output port "{sp}"')
    _need(dp in LAYERS[types[dst]].port_names("in"), where, f'{dst} has no input port "{dp}"')
    _need(src != dst, where, "a wire cannot connect a layer to itself")
    return eid, src, sp, dst, dp
