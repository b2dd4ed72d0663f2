"""Edits that move layers into and out of blocks, and the graph as a document.

`group` turns selected layers into one Block (their wiring moved inside, between
the body's BlockInput and BlockOutput); `ungroup` puts a block's layers back in
its place. Each returns a record from which `undo_group` / `undo_ungroup` restore
the exact ids, wires and wire order, and keeps the same body object, so that undo
commands made inside a block stay valid across the boundary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from statistics import fmean

from studio.graph.model import BODY_ONLY, MAX_DEPTH, TOP_ONLY, Edge, GraphError, GraphModel, _body_depth

STEP = 260.0  # room between a body's ends and its layers


@dataclass
class NodeData:
    id: str
    type: str
    params: dict
    pos: tuple[float, float]
    body: GraphModel | None = None


def node_data(model: GraphModel, nid: str) -> NodeData:
    d = model.node(nid)
    return NodeData(nid, d["type"], dict(d["params"]), d["pos"], d.get("body"))


def restore(model: GraphModel, n: NodeData) -> None:
    model.add_node(n.type, n.params, n.pos, nid=n.id, body=n.body)


@dataclass
class Grouping:
    block: str
    nodes: list[NodeData]  # the grouped layers, as they were outside
    edges: list[Edge]  # every wire that touched them, as it was
    body: GraphModel | None = None


@dataclass
class Ungrouping:
    block: NodeData
    outer: list[Edge]  # the block's own wires
    inner: list[NodeData]  # everything inside, ends included
    inner_edges: list[Edge]
    renamed: dict[str, str] = field(default_factory=dict)  # inner id -> id used outside
    added_edges: list[str] = field(default_factory=list)


def _ranked(model: GraphModel, edges: list[Edge]) -> list[Edge]:
    """Wires in their order into merge layers (a reconnected wire keeps its rank, not its place)."""
    return sorted(edges, key=lambda e: model.edge_rank(e.id))


def _ports(model: GraphModel, sel: set[str]) -> tuple[list[Edge], list[Edge]]:
    """The wires entering and leaving the selection; one tensor must enter and one leave."""
    # by rank, not insertion order: after an undo the same wires are found in the same order,
    # so a redo gives the block's input wire the same id
    into = _ranked(model, [e for e in model.edges() if e.dst in sel and e.src not in sel])
    out = _ranked(model, [e for e in model.edges() if e.src in sel and e.dst not in sel])
    sources = sorted({e.src for e in into})
    if not into:
        raise GraphError("Nothing flows into the selected layers; a block needs one input wire")
    if len({(e.src, e.src_port) for e in into}) > 1:
        raise GraphError(f"A block takes one input, but the selection is fed by {len(sources)} layers "
                         f"({', '.join(sources)}); select them too, or fewer layers")
    leaving = sorted({e.src for e in out})
    if not out:
        raise GraphError("Nothing leaves the selected layers; a block must feed a layer after it")
    if len({(e.src, e.src_port) for e in out}) > 1:
        raise GraphError(f"A block gives one output, but {len(leaving)} selected layers "
                         f"({', '.join(leaving)}) feed layers outside; select fewer, or merge them first")
    return into, out


def _selection(model: GraphModel, ids) -> tuple[list[str], list[Edge], list[Edge]]:
    sel = [n for n in model.nodes() if n in set(ids)]  # model order
    if not sel:
        raise GraphError("Select the layers to make into a block")
    ends = [n for n in sel if model.type_of(n) in TOP_ONLY + BODY_ONLY]
    if ends:
        raise GraphError(f"{', '.join(ends)}: the network's (or block's) own input and output stay outside "
                         "a block")
    inner = [_body_depth(model.body(n)) for n in sel if model.type_of(n) == "Block"]
    if inner and model.depth() + 2 + max(inner) > MAX_DEPTH:  # checked here: group must not fail half-way
        raise GraphError(f"Blocks may be nested at most {MAX_DEPTH} deep; a block around these would go deeper")
    return (sel, *_ports(model, set(sel)))


def group_problem(model: GraphModel, ids) -> str | None:
    """Why the layers `ids` cannot become one block (what `group` would refuse), or None."""
    try:
        _selection(model, ids)
    except GraphError as e:
        return str(e)
    return None


def _free(taken: set[str], want: str) -> str:
    if want not in taken:
        return want
    i = 1
    while f"{want}{i}" in taken:
        i += 1
    return f"{want}{i}"


def group(model: GraphModel, ids: list[str], name: str = "Block", nid: str | None = None,
          body: GraphModel | None = None, pos: tuple[float, float] | None = None) -> Grouping:
    """Make the layers `ids` one block. `body`: an emptied body to fill again (redo)."""
    sel, into, out = _selection(model, ids)
    nodes = [node_data(model, n) for n in sel]
    touched = _ranked(model, [e for e in model.edges() if e.src in set(sel) or e.dst in set(sel)])
    xs, ys = [n.pos[0] for n in nodes], [n.pos[1] for n in nodes]
    where = pos if pos is not None else (fmean(xs), fmean(ys))
    nid = nid or model.new_id("Block")
    if nid in model.g:
        raise GraphError(f"a node with id {nid!r} already exists")
    for e in touched:
        model.disconnect(e.id)
    for n in sel:
        model.remove_node(n)
    if body is None:
        body = GraphModel(body=True)
    elif len(body):
        raise GraphError("a block's inside can only be refilled when it is empty")
    left, mid = min(xs) - STEP, fmean(ys)
    for n in nodes:
        restore(body, NodeData(n.id, n.type, n.params, (n.pos[0] - left, n.pos[1] - mid), n.body))
    taken = set(sel)
    b_in, b_out = _free(taken, "input"), _free(taken, "output")
    body.add_node("BlockInput", pos=(0.0, 0.0), nid=b_in)
    body.add_node("BlockOutput", pos=(max(xs) - left + STEP, 0.0), nid=b_out)
    inner = set(sel)
    for e in touched:  # in rank order, so merge layers inside keep their wire order
        if e.src in inner and e.dst in inner:
            body.connect(e.src, e.src_port, e.dst, e.dst_port, eid=e.id)
        elif e.dst in inner:
            body.connect(b_in, "out", e.dst, e.dst_port, eid=e.id)
    src = out[0]
    body.connect(src.src, src.src_port, b_out, "in", eid=_free({e.id for e in body.edges()}, "e_out"))
    model.add_node("Block", {"name": name}, where, nid=nid, body=body)
    model.connect(into[0].src, into[0].src_port, nid, "in", eid=into[0].id)
    for e in out:  # the old ids keep their rank in merge layers outside
        model.connect(nid, "out", e.dst, e.dst_port, eid=e.id)
    return Grouping(nid, nodes, touched, body)


def undo_group(model: GraphModel, rec: Grouping) -> None:
    """Put the layers back as they were; the body is emptied, ready for a redo."""
    model.remove_node(rec.block)
    body = rec.body
    for n in list(body.nodes()):
        body.remove_node(n)  # detaches nested blocks' bodies for their return outside
    for n in rec.nodes:
        restore(model, n)
    for e in rec.edges:
        model.connect(e.src, e.src_port, e.dst, e.dst_port, eid=e.id)


def ungroup(model: GraphModel, nid: str, edge_ids: list[str] | None = None) -> Ungrouping:
    """Replace block `nid` by its layers, wired where the block was. `edge_ids`: the
    `added_edges` of an earlier run on the same graph (a redo), so the new wires get
    the same ids again and later commands that name them stay valid."""
    if model.type_of(nid) != "Block":
        raise GraphError(f"{nid} is not a block")
    p = model.params(nid)
    if p["repeat"] != 1:
        raise GraphError(f"{p['name']} runs ×{p['repeat']}; set Repeat to 1 before taking it apart")
    body = model.body(nid)
    b_in, b_out = body.of_type("BlockInput"), body.of_type("BlockOutput")
    if len(b_in) != 1 or len(b_out) != 1 or len(body.in_edges(b_out[0])) != 1:
        raise GraphError(f"{p['name']} is not wired from its input to its output; finish it first")
    rec = Ungrouping(node_data(model, nid), model.in_edges(nid) + model.out_edges(nid),
                     [node_data(body, n) for n in body.nodes()], _ranked(body, body.edges()))
    feed = [e for e in rec.outer if e.dst == nid]
    fed = [e for e in rec.outer if e.src == nid]
    last = body.in_edges(b_out[0])[0]
    bx, by = rec.block.pos
    x0 = fmean(body.pos(n)[0] for n in body.nodes())
    model.remove_node(nid)
    for n in list(body.nodes()):
        body.remove_node(n)
    taken = set(model.nodes())
    ends = set(b_in + b_out)
    for n in rec.inner:
        if n.id in ends:
            continue
        new = _free(taken, n.id)
        taken.add(new)
        rec.renamed[n.id] = new
        restore(model, NodeData(new, n.type, n.params, (bx + n.pos[0] - x0, by + n.pos[1]), n.body))
    r = rec.renamed

    def link(src, sp, dst, dp, eid=None):
        if edge_ids is not None and len(rec.added_edges) < len(edge_ids):
            eid = edge_ids[len(rec.added_edges)]
        rec.added_edges.append(model.connect(src, sp, dst, dp, eid=eid))

    via_input = last.src in b_in
    for e in fed:  # first, so the old ids (their rank in merge layers) are still free
        if via_input and feed:
            link(feed[0].src, feed[0].src_port, e.dst, e.dst_port, eid=e.id)
        elif not via_input:
            link(r[last.src], last.src_port, e.dst, e.dst_port, eid=e.id)
    for e in rec.inner_edges:
        if e.src in r and e.dst in r:
            link(r[e.src], e.src_port, r[e.dst], e.dst_port)
        elif e.src in b_in and e.dst in r and feed:
            link(feed[0].src, feed[0].src_port, r[e.dst], e.dst_port)
    return rec


def undo_ungroup(model: GraphModel, rec: Ungrouping) -> None:
    for eid in rec.added_edges:
        if model.has_edge(eid):
            model.disconnect(eid)
    for new in rec.renamed.values():
        model.remove_node(new)
    body = rec.block.body
    for n in rec.inner:
        restore(body, n)
    for e in rec.inner_edges:
        body.connect(e.src, e.src_port, e.dst, e.dst_port, eid=e.id)
    restore(model, rec.block)
    for e in rec.outer:
        model.connect(e.src, e.src_port, e.dst, e.dst_port, eid=e.id)


def can_repeat(model: GraphModel, nid: str) -> bool:
    """Whether the block gives the shape it takes, so it can run several times in a row."""
    info = model.shapes.info.get(nid)
    if info is None or info.out is None or len(info.inputs) != 1:
        return False
    x, y = info.inputs[0], info.out
    return (x.dims, x.seq, x.dtype) == (y.dims, y.seq, y.dtype)


def to_doc(model: GraphModel) -> dict:
    """The graph as JSON-ready nodes and edges; a block's node carries its body the same way."""
    nodes = []
    for n in model.nodes():
        d = model.node(n)
        item = {"id": n, "type": d["type"], "params": _jsonable(d["params"]),
                "pos": [round(d["pos"][0], 2), round(d["pos"][1], 2)]}
        if "body" in d:
            item["body"] = to_doc(d["body"])
        nodes.append(item)
    edges = [{"id": e.id, "src": e.src, "src_port": e.src_port, "dst": e.dst, "dst_port": e.dst_port}
             for e in _ranked(model, model.edges())]
    return {"nodes": nodes, "edges": edges}


def _jsonable(params: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def walk(model: GraphModel, prefix: str = ""):
    """(graph, node id, dotted path) for every node, blocks' insides included; the path
    is the node's module name in the compiled network (a repeated block's first copy)."""
    for n in model.nodes():
        path = f"{prefix}{n}"
        yield model, n, path
        if model.type_of(n) == "Block":
            rep = model.params(n)["repeat"]
            yield from walk(model.body(n), f"{path}.0." if rep > 1 else f"{path}.")


def qualified(model: GraphModel, nid: str) -> str:
    """Node `nid` of `model` (the top level or a block's inside) as its dotted module
    path in the compiled network, as `walk` names it."""
    parts = [nid]
    m = model
    while m.parent is not None:
        outer, block = m.parent
        if outer.params(block)["repeat"] > 1:
            parts.append("0")
        parts.append(block)
        m = outer
    return ".".join(reversed(parts))


def node_path(model: GraphModel, nid: str) -> str:
    """Node `nid` of `model` named from the top level down, block ids and its own joined
    by "/" ("layer2/conv1"); a top-level node's path is its id. Sweeps name nodes so: one
    name for the layer in every copy of a repeated block, whose copies share one inside."""
    parts, m = [nid], model
    while m.parent is not None:
        m, block = m.parent
        parts.append(block)
    return "/".join(reversed(parts))


def resolve(model: GraphModel, path: str) -> tuple[GraphModel, str] | None:
    """(graph, node id) that `path` (as node_path writes it) names under `model`, or None."""
    *blocks, nid = path.split("/")
    for block in blocks:
        if block not in model.nodes() or model.type_of(block) != "Block":
            return None
        model = model.body(block)
    return (model, nid) if nid in model.nodes() else None


def counts(model: GraphModel) -> tuple[int, int]:
    """(layers, blocks) in `model` and every block inside it; a layer in a block that
    repeats counts once per copy, as the network runs it. Block ends are not layers."""
    layers = blocks = 0
    for n in model.nodes():
        t = model.type_of(n)
        if t == "Block":
            inner, inner_blocks = counts(model.body(n))
            rep = model.params(n)["repeat"]
            layers, blocks = layers + rep * inner, blocks + 1 + rep * inner_blocks
        elif t not in ("BlockInput", "BlockOutput"):
            layers += 1
    return layers, blocks
