"""Give an imported flat graph the shape of the torch module tree: each submodule
whose layers take one tensor and give one tensor becomes a Block (innermost
first, by studio.graph.blocks.group's rule, on the graph as a document), named after its class (a plain
nn.Sequential after its attribute). Inside a block the layers take their local
names (conv1, bn1, downsample_0), so the compiled network's state_dict reads
like the torch model's (`layer2.layer2_0.conv1.weight`). Consecutive identical
blocks of one container that keep the shape they take merge into one block
repeated ×N (compiled as nn.Sequential 0, 1, ...); a container that is only
such a run becomes that repeated block itself (`layer1.0.conv1.weight`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import networkx as nx
from torch import nn

from studio.graph.blocks import to_doc
from studio.graph.layout import positions
from studio.graph.model import MAX_DEPTH, GraphModel, id_problem
from studio.project.file import build_graph

MIN_LAYERS = 3  # a submodule of one or two layers stays inline in its parent (downsample_0, downsample_1)
ENDS = ("Input", "Output", "BlockInput", "BlockOutput")


@dataclass
class Where:
    """Where a flat node sits in the torch model."""
    chain: list[tuple[str, type]]  # enclosing submodules, outermost first (the node's own module excluded)
    own: str | None  # the torch module the node is (call_module), or None for a function
    name: str  # the fx node's name


@dataclass
class Structured:
    model: GraphModel
    key_of: dict[str, str]  # flat node id -> its module path in the compiled network
    block_of: dict[str, str] = field(default_factory=dict)  # torch path -> the block's module path
    blocks: int = 0  # blocks made (before repeats merged)
    flat: list[str] = field(default_factory=list)  # submodules kept flat: not one tensor in, one out


def structure(flat: GraphModel, where: dict[str, Where]) -> Structured:
    """Group `flat` (consumed) by the module tree."""
    members: dict[str, set[str]] = {}
    cls: dict[str, type] = {}
    parent: dict[str, str] = {}
    depth: dict[str, int] = {}
    for nid, w in where.items():
        for i, (path, c) in enumerate(w.chain):
            members.setdefault(path, set()).add(nid)
            cls[path], depth[path] = c, i + 1
            parent[path] = w.chain[i - 1][0] if i else ""
    everything = set(where)
    # The layer that feeds the Output stays at the top, where "Set to N classes" (the
    # trainer's head check) and fine-tuning scripts find it: a classifier Sequential is not a block.
    head = {e.src for o in flat.of_type("Output") for e in flat.in_edges(o)}
    todo = [p for p in members if len(members[p]) >= MIN_LAYERS and members[p] != everything
            and not members[p] & head
            and not (parent[p] and members[parent[p]] == members[p])]  # the outer of equal ones
    chosen = set(todo)
    outer = {p: sum(1 for q, _ in where[next(iter(members[p]))].chain if q in chosen and len(q) < len(p)
                    and p.startswith(q + ".")) for p in todo}
    todo = [p for p in todo if outer[p] < MAX_DEPTH - 1]  # the outer ones, where modules nest too deep
    todo.sort(key=lambda p: -depth[p])
    rep = {n: n for n in where}  # flat id -> the top-level node that holds it now
    path_of: dict[str, str] = {}  # temporary block id -> torch path
    taken = set(flat.nodes())
    flat_left: list[str] = []
    doc = to_doc(flat)  # grouped as a document: editing the live graph re-infers shapes at every step
    shape = {n: _shape(flat, n) for n in flat.nodes()}  # top-level id -> its output shape
    repeatable: set[str] = set()
    for i, p in enumerate(todo):
        ids = {rep[n] for n in members[p]}
        if len(ids) < 2:
            continue
        bid = _fresh(taken, f"block_{i}")
        ends = _group(doc, ids, _name(p, cls[p]), bid)
        if ends is None:
            flat_left.append(p)
            continue
        taken.add(bid)
        path_of[bid] = p
        shape[bid] = shape[ends[1]]
        if shape[bid] is not None and shape[ends[0]] == shape[bid]:
            repeatable.add(bid)
        for n in members[p]:
            rep[n] = bid
    r = _Renamer(where, path_of, repeatable)
    doc = r.level(doc, "")
    out = Structured(GraphModel(), {}, blocks=len(path_of), flat=flat_left)
    clean = _finish(doc, "", out, r)
    out.model = build_graph(clean, "import")  # as a project file's graph is read
    return out


def _shape(model: GraphModel, nid: str):
    s = model.shapes.out(nid)
    return None if s is None else (tuple(s.dims), s.seq, s.dtype)


def _group(doc: dict, ids: set[str], name: str, bid: str) -> tuple[str, str] | None:
    """studio.graph.blocks.group on a graph document: the layers `ids` become block `bid`
    when one tensor enters them and one leaves (else None and nothing changes). Wire
    order is kept, so merge layers keep their inputs' order inside and outside. Returns
    the ids of the layers that feed the block and that give its output."""
    edges = doc["edges"]
    into = [e for e in edges if e["dst"] in ids and e["src"] not in ids]
    out = [e for e in edges if e["src"] in ids and e["dst"] not in ids]
    if len({(e["src"], e["src_port"]) for e in into}) != 1 or len({(e["src"], e["src_port"]) for e in out}) != 1:
        return None
    inside = [n for n in doc["nodes"] if n["id"] in ids]
    if any(n["type"] in ENDS for n in inside):
        return None
    b_in, b_out = _fresh(ids, "input"), _fresh(ids, "output")
    body_edges = [e if e["src"] in ids else dict(e, src=b_in, src_port="out") for e in edges if e["dst"] in ids]
    body_edges.append({"id": _fresh({e["id"] for e in body_edges}, "e_out"), "src": out[0]["src"],
                       "src_port": out[0]["src_port"], "dst": b_out, "dst_port": "in"})
    body = {"nodes": [{"id": b_in, "type": "BlockInput", "params": {}, "pos": [0, 0]}, *inside,
                      {"id": b_out, "type": "BlockOutput", "params": {}, "pos": [0, 0]}], "edges": body_edges}
    block = {"id": bid, "type": "Block", "params": {"name": name, "repeat": 1}, "pos": [0, 0], "body": body}
    first = doc["nodes"].index(inside[0])
    doc["nodes"] = [n for n in doc["nodes"][:first] if n["id"] not in ids] + [block] + \
        [n for n in doc["nodes"][first:] if n["id"] not in ids]
    kept = []
    for e in edges:
        if e is into[0]:
            kept.append(dict(e, dst=bid, dst_port="in"))
        elif e["src"] in ids and e["dst"] not in ids:
            kept.append(dict(e, src=bid, src_port="out"))
        elif e["src"] not in ids and e["dst"] not in ids:
            kept.append(e)
    doc["edges"] = kept
    return into[0]["src"], out[0]["src"]


def _name(path: str, c: type | str) -> str:
    """A plain container is named by its attribute (layer1), any other module by its class."""
    if c in (nn.Sequential, nn.ModuleList, nn.ModuleDict):
        return path.rsplit(".", 1)[-1]
    given = getattr(c, "block_name", None)  # Studio's .py export records a block's own name
    if isinstance(given, str) and given.strip() and len(given) <= 200:
        return given
    return getattr(c, "__name__", str(c).rsplit(".", 1)[-1])  # some torch versions record the name


def _fresh(taken: set[str], want: str) -> str:
    nid, i = want, 1
    while nid in taken:
        nid, i = f"{want}_{i}", i + 1
    return nid


def _local(path: str, inside: str) -> str:
    """`path` named from inside the block for `inside`: layer1.0.conv1 in layer1.0 -> conv1;
    a container's numbered child takes the container's name: 0 in layer1 -> layer1_0, and
    0 in features.1.block.0 -> block_0_0 (from the last named module on)."""
    rel = path[len(inside) + 1:] if inside and path.startswith(inside + ".") else path
    if rel[:1].isdigit() and inside:
        parts = inside.split(".")
        named = [i for i, x in enumerate(parts) if not x.isdigit()]
        rel = ".".join(parts[named[-1] if named else 0:] + [rel])
    return rel.replace(".", "_")


def _valid(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", name) or "node"
    if base[0].isdigit() or id_problem(base):
        base = f"n_{base}"
    nid = _fresh(taken, base[:90])
    taken.add(nid)
    return nid


class _Renamer:
    def __init__(self, where: dict[str, Where], path_of: dict[str, str], repeatable: set[str]):
        self.where, self.path_of, self.repeatable = where, path_of, repeatable

    def name(self, nid: str, inside: str) -> str:
        if nid in self.path_of:
            return _local(self.path_of[nid], inside)
        w = self.where[nid]
        if w.own is not None:
            return _local(w.own, inside)
        base = re.sub(r"_\d+$", "", w.name)
        home = w.chain[-1][0] if w.chain else ""
        return base if home == inside else f"{_local(home, inside)}_{base}"

    def level(self, g: dict, inside: str) -> dict:
        """A graph document with local names; nodes keep the flat id under "_flat"."""
        taken: set[str] = set()
        new: dict[str, str] = {}
        for n in g["nodes"]:  # ends first, so a layer never takes their names
            if n["type"] in ENDS:
                new[n["id"]] = _valid(n["id"], taken)
        for n in g["nodes"]:
            if n["type"] not in ENDS:
                new[n["id"]] = _valid(self.name(n["id"], inside), taken)
        nodes = []
        for n in g["nodes"]:
            item = dict(n, id=new[n["id"]], _flat=n["id"])
            if n["type"] == "Block":
                item["body"] = self.level(n["body"], self.path_of[n["id"]])
                item["_copies"] = [item["body"]]
                item["_repeatable"] = n["id"] in self.repeatable
            nodes.append(item)
        edges = [dict(e, src=new[e["src"]], dst=new[e["dst"]]) for e in g["edges"]]
        doc = {"nodes": nodes, "edges": edges}
        _merge_runs(doc, self.path_of)
        for n in nodes:
            _collapse(n)
        return doc


def _signature(g: dict) -> str:
    """The body's layers, parameters and wiring, without positions or wire ids."""
    def strip(d: dict):
        return {"nodes": [[n["id"], n["type"], n["params"], strip(n["body"]) if "body" in n else None]
                          for n in d["nodes"]],
                "edges": sorted([e["src"], e["src_port"], e["dst"], e["dst_port"]] for e in d["edges"])}
    return json.dumps(strip(g), sort_keys=True, default=str)


def _next_sibling(a: str, b: str) -> bool:
    """Whether torch paths a and b are children i and i+1 of one container."""
    (pa, _, ia), (pb, _, ib) = a.rpartition("."), b.rpartition(".")
    return pa == pb and ia.isdigit() and ib.isdigit() and int(ib) == int(ia) + 1


def _merge_runs(doc: dict, path_of: dict[str, str]) -> None:
    """Consecutive identical blocks that keep their shape become one block repeated ×N."""
    by_id = {n["id"]: n for n in doc["nodes"]}
    outs: dict[str, list[dict]] = {}
    ins: dict[str, list[dict]] = {}
    for e in doc["edges"]:
        outs.setdefault(e["src"], []).append(e)
        ins.setdefault(e["dst"], []).append(e)

    def follower(n: dict) -> dict | None:
        o = outs.get(n["id"], [])
        if len(o) != 1 or len(ins.get(o[0]["dst"], [])) != 1:
            return None
        m = by_id[o[0]["dst"]]
        ok = (m["type"] == "Block" and m["_repeatable"] and m["params"]["repeat"] == 1
              and m["params"]["name"] == n["params"]["name"]
              and _next_sibling(path_of[n["_flat"]], path_of[m["_flat"]])
              and _signature(m["body"]) == _signature(n["body"]))
        return m if ok else None

    seen: set[str] = set()
    for n in list(doc["nodes"]):
        if n["type"] != "Block" or n["id"] in seen or not n["_repeatable"] or n["params"]["repeat"] != 1:
            continue
        run, m = [n], follower(n)
        while m is not None and m["id"] not in seen:
            run.append(m)
            m = follower(m)
        seen |= {x["id"] for x in run}
        if len(run) < 2:
            continue
        gone = {x["id"] for x in run[1:]}
        n["params"] = dict(n["params"], repeat=len(run))
        n["_copies"] = [x["body"] for x in run]
        n["_runs"] = [x["_flat"] for x in run]
        last = run[-1]["id"]
        doc["edges"] = [dict(e, src=n["id"]) if e["src"] == last else e for e in doc["edges"]
                        if e["dst"] not in gone]
        doc["nodes"] = [x for x in doc["nodes"] if x["id"] not in gone]
        by_id = {x["id"]: x for x in doc["nodes"]}


def _collapse(n: dict) -> None:
    """A block whose inside is only one repeated block becomes that repeated block."""
    if n["type"] != "Block" or n["params"]["repeat"] != 1:
        return
    inner = [x for x in n["body"]["nodes"] if x["type"] not in ENDS]
    if len(inner) == 1 and inner[0]["type"] == "Block" and inner[0]["params"]["repeat"] > 1:
        (r,) = inner
        n["params"] = dict(n["params"], name=r["params"]["name"], repeat=r["params"]["repeat"])
        n["body"], n["_copies"], n["_runs"] = r["body"], r["_copies"], r["_runs"]


def _finish(g: dict, prefix: str, out: Structured, r: _Renamer) -> dict:
    """The document without bookkeeping, laid out; records where each flat layer's
    weights live (every copy of a repeated block)."""
    nodes = []
    for n in g["nodes"]:
        item = {k: v for k, v in n.items() if not k.startswith("_")}
        here = f"{prefix}{n['id']}"
        if n["type"] == "Block":
            out.block_of[r.path_of[n["_flat"]]] = here
            for i, f in enumerate(n.get("_runs", ())):  # the torch modules a repeat stands for
                out.block_of[r.path_of[f]] = f"{here}.{i}"
            copies = n["_copies"]
            bodies = [_finish(c, f"{here}.{i}." if len(copies) > 1 else f"{here}.", out, r)
                      for i, c in enumerate(copies)]
            item["body"] = bodies[0]
        elif n["type"] not in ENDS:
            out.key_of[n["_flat"]] = here
        nodes.append(item)
    doc = {"nodes": nodes, "edges": [dict(e) for e in g["edges"]]}
    _layout(doc)
    return doc


def _layout(doc: dict) -> None:
    """Nodes in the order they are compiled (topological, the traced order breaking ties),
    placed by the layout the canvas's Auto-layout uses."""
    g = nx.DiGraph()
    g.add_nodes_from(n["id"] for n in doc["nodes"])
    g.add_edges_from((e["src"], e["dst"]) for e in doc["edges"])
    rank = {n["id"]: i for i, n in enumerate(doc["nodes"])}
    at = {nid: i for i, nid in enumerate(nx.lexicographical_topological_sort(g, key=rank.__getitem__))}
    doc["nodes"].sort(key=lambda n: at[n["id"]])
    pos = positions([n["id"] for n in doc["nodes"]], [(e["src"], e["dst"]) for e in doc["edges"]])
    for n in doc["nodes"]:
        n["pos"] = list(pos[n["id"]])
