"""Turn a traced torch module into a Studio graph and its state_dict.

Every fx node becomes a catalogue layer when a rule in mapping.py says what it
is and Studio's own shape inference agrees with the traced shape. Anything else
makes the innermost enclosing submodule an opaque node, and the model is traced
again with that submodule as a leaf, until every node is a layer or an opaque
module. Weights are matched tensor by tensor; one that finds no home is an error.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import torch
from torch import fx, nn

from studio.graph.compile import node_module
from studio.graph.layout import positions
from studio.graph.model import GraphError, GraphModel, id_problem
from studio.importer.layer_scale import held_by_scale, is_layer_scale, map_layer_scale
from studio.importer.mapping import RECURRENT, Mapped, NoLayer, map_function, map_module, rank
from studio.importer.recurrent import map_recurrent
from studio.importer.structure import Where, structure
from studio.importer.trace import ImportFailed, propagate, trace
from studio.importer.vit import held_by_token, map_vit


@dataclass
class Converted:
    model: GraphModel
    state: dict[str, torch.Tensor]  # the compiled Studio module's state_dict (empty on meta)
    opaque: dict[str, str] = field(default_factory=dict)  # node id -> why it is opaque
    node_of: dict[str, str] = field(default_factory=dict)  # torch module path -> node id
    rounds: int = 1
    unused: dict[str, int] = field(default_factory=dict)  # module never called by forward -> its weights
    blocks: int = 0  # submodules made blocks (before identical ones merged into repeats)
    flat: list[str] = field(default_factory=list)  # submodules kept flat: not one tensor in, one out
    where: dict[str, Where] = field(default_factory=dict, repr=False)  # flat node id -> its torch place


@dataclass
class _Entry:
    node: fx.Node
    mapped: Mapped
    path: str = ""  # the torch module this node is (call_module), or the Parameter a LayerScale holds


class _Problem(Exception):
    def __init__(self, node: fx.Node, reason: str, own: bool = False):
        super().__init__(reason)
        self.node, self.reason, self.own = node, reason, own


class _Problems(Exception):
    def __init__(self, problems: list[_Problem]):
        super().__init__(problems[0].reason)
        self.problems = problems


def convert(model: nn.Module, inputs: tuple[torch.Tensor, ...], source: str = "", kwargs: str = "{}",
            opaque: set[str] | None = None, vocab: int | None = None, blocks: bool = True) -> Converted:
    """`blocks`: group the layers by the torch module tree (see structure.py); else one flat graph
    whose node ids are fx's names."""
    opaque = set(opaque or ())
    bad: set[str] = set()  # opaque candidates that are not one-tensor-in, one-tensor-out
    reasons: dict[str, str] = {p: "kept opaque on request" for p in opaque}
    real = not any(p.is_meta for p in model.parameters())
    for rounds in range(1, 500):
        gm = trace(model, opaque)
        propagate(gm, inputs)
        try:
            out = _build(gm, model, opaque, bad, source, kwargs, real, vocab)
        except (_Problem, _Problems) as e:
            problems = e.problems if isinstance(e, _Problems) else [e]
            for p in problems:
                if p.node.op == "call_module" and p.own:
                    bad.add(p.node.target)
            for p in problems:
                stack = list(p.node.meta.get("nn_module_stack", {}))
                path = next((s for s in reversed(stack) if s not in bad), None)
                if not path:  # the model's own forward(): keep the whole model as one node
                    return _whole(gm, model, source, kwargs, real, vocab,
                                  f"{p.reason}, in the model's own forward()")
                if any(path.startswith(o + ".") for o in opaque):
                    continue  # already inside a module made opaque this round
                opaque = {o for o in opaque if not o.startswith(path + ".")} | {path}
                reasons[path] = p.reason
            continue
        out.opaque = {nid: reasons.get(path, "") for path, nid in out.node_of.items() if path in opaque}
        out.rounds = rounds
        out.unused = _unused(model, set(out.node_of))
        return _grouped(out) if blocks and out.where else out
    raise ImportFailed("the model did not settle into layers and opaque modules")


def _grouped(c: Converted) -> Converted:
    """The flat result grouped into blocks: node ids, weight names and node_of follow."""
    s = structure(c.model, c.where)
    state = {}
    for k, v in c.state.items():
        nid, _, rest = k.partition(".")
        state[f"{s.key_of[nid]}.{rest}"] = v
    if len(state) != len(c.state):
        raise ImportFailed("grouping the layers into blocks lost a weight; import with --flat")
    node_of = {path: s.key_of[nid] for path, nid in c.node_of.items()} | s.block_of
    opaque = {s.key_of[nid]: why for nid, why in c.opaque.items()}
    return Converted(s.model, state, opaque, node_of, c.rounds, c.unused, s.blocks, s.flat)


def _plan(gm: fx.GraphModule, model: nn.Module, opaque: set[str], bad: set[str]) -> tuple[list[_Entry], dict]:
    entries: list[_Entry] = []
    alias: dict[fx.Node, fx.Node] = {}  # a value -> the entry node that produces it
    skip: set[fx.Node] = set()
    calls: dict[str, int] = {}
    for n in gm.graph.nodes:
        if n.op == "call_module":
            calls[n.target] = calls.get(n.target, 0) + 1
    problems: list[_Problem] = []
    for n in gm.graph.nodes:
        if n in skip or n.op in ("placeholder", "output"):
            continue
        try:
            if n.op == "call_module":
                m = gm.get_submodule(n.target)
                if calls[n.target] > 1 and any(True for _ in m.parameters()):
                    raise NoLayer(f"{n.target} is used {calls[n.target]} times with the same weights")
                if n.target in opaque:
                    entries.append(_Entry(n, _opaque(n, m), n.target))
                elif type(m) in RECURRENT:
                    mapped, finals, plumbing = map_recurrent(n, m)
                    entries.append(_Entry(n, mapped, n.target))
                    skip |= plumbing | set(finals)
                    alias.update({f: n for f in finals})
                else:
                    entries.append(_Entry(n, map_module(n, m), n.target))
            elif is_layer_scale(n):  # named after the Parameter it holds (layer_scale)
                entries.append(_Entry(n, *map_layer_scale(n, gm)))
            elif (vit := map_vit(n, gm)) is not None:  # ViT's tokens, patches, x[:, 0], reshape
                entries.append(_Entry(n, *vit))
            elif n.op in ("call_function", "call_method"):
                entries.append(_Entry(n, map_function(n)))
            elif held_by_scale(n) or held_by_token(n):
                continue
            else:
                raise NoLayer(f"{n.op} {n.target} (a tensor held by the module, not a layer)")
        except NoLayer as e:
            problems.append(_Problem(n, str(e), own=n.op == "call_module" and n.target in opaque))
    if problems:
        raise _Problems(problems)
    return entries, alias


def _opaque(n: fx.Node, m: nn.Module) -> Mapped:
    if n.kwargs or len(n.args) != 1 or rank(n.args[0]) is None or rank(n) is None or rank(n) < 2:
        raise NoLayer(f"{type(m).__name__} ({n.target}) does not take one tensor and give one tensor")
    return Mapped("Opaque", {}, [n.args[0]], m)


def _node_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", name) or "node"
    if base[0].isdigit() or id_problem(base):
        base = f"n_{base}"
    nid, i = base[:90], 1
    while nid in taken:
        nid, i = f"{base[:90]}_{i}", i + 1
    taken.add(nid)
    return nid


def _dims(node: fx.Node) -> tuple[int, ...]:
    return tuple(int(d) for d in node.meta["tensor_meta"].shape[1:])


def _input_params(n: fx.Node, entries: list[_Entry], vocab: int | None) -> dict:
    meta = n.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape"):
        raise ImportFailed(f"input {n.name} is not a tensor")
    dims, floating = _dims(n), meta.dtype.is_floating_point
    if not floating and len(dims) == 1:
        emb = next((e.mapped.module for e in entries if e.mapped.type == "Embedding" and e.mapped.inputs[0] is n),
                   None)
        v = vocab or (emb.num_embeddings if emb is not None else 1000)
        return dict(kind="tokens", length=dims[0], vocab=v)
    if floating and len(dims) == 3:
        return dict(kind="image", channels=dims[0], height=dims[1], width=dims[2])
    if floating and len(dims) == 2:
        return dict(kind="sequence", length=dims[0], features=dims[1])
    if floating and len(dims) == 1:
        return dict(kind="vector", features=dims[0])
    raise ImportFailed(f"input {n.name} of shape {'×'.join(map(str, dims))} ({meta.dtype}) is not an "
                       "image, a sequence, a vector or token ids")


def _build(gm, model, opaque, bad, source, kwargs, real, vocab) -> Converted:
    entries, alias = _plan(gm, model, opaque, bad)
    m = GraphModel()
    taken: set[str] = set()
    sid: dict[fx.Node, str] = {}
    for n in gm.graph.nodes:
        if n.op == "placeholder":
            sid[n] = m.add_node("Input", _input_params(n, entries, vocab), nid=_node_id(n.name, taken))
    state: dict[str, torch.Tensor] = {}
    node_of: dict[str, str] = {}
    where: dict[str, Where] = {}
    problems: list[_Problem] = []
    for e in entries:
        n, mp = e.node, e.mapped
        if any(alias.get(x, x) not in sid or sid[alias.get(x, x)] not in m.g for x in mp.inputs):
            continue  # downstream of a problem without a stand-in: judged again in the next round
        nid = _node_id(n.name, taken)
        if mp.type == "Opaque":
            src = mp.inputs[0]
            before = m.shapes.out(sid[alias.get(src, src)])
            # A sequence stays a sequence through a module that keeps its rank (T×F -> T×H).
            seq = bool(before is not None and before.seq and len(_dims(n)) == len(before))
            mp.params = dict(module_type=type(mp.module).__name__, source=source, kwargs=kwargs, path=e.path,
                             in_dims=list(_dims(src)), out_dims=list(_dims(n)),
                             out_seq=seq, weights=sum(p.numel() for p in mp.module.parameters()))
        try:
            try:
                m.add_node(mp.type, mp.params, nid=nid)
                for x in mp.inputs:
                    m.connect(sid[alias.get(x, x)], "out", nid, "in")
            except (GraphError, KeyError) as ex:
                raise _Problem(n, f"{mp.type}: {ex}") from None
            _check_shape(m, nid, alias_of(n, alias), mp)
            weights = _weights(m, nid, mp, n, real)
        except _Problem as p:
            problems.append(p)
            if nid in m.g:
                m.remove_node(nid)
            _stand_in(m, nid, n, [sid[alias.get(x, x)] for x in mp.inputs])
            sid[n] = nid
            continue
        sid[n] = nid
        for f, src in alias.items():
            if src is n:
                sid[f] = nid
        if e.path:
            node_of[e.path] = nid
        where[nid] = _where(n, e.path)
        state.update(weights)
    if problems:
        raise _Problems(problems)
    (out,) = [n for n in gm.graph.nodes if n.op == "output"]
    res = out.args[0]
    if not isinstance(res, fx.Node) or rank(res) is None:
        raise ImportFailed("the model returns several values; Studio networks return one tensor")
    final = m.shapes.out(sid[res])
    loss = dict(loss="cross_entropy", task="classification") if final is not None and len(final) == 1 \
        else dict(loss="mse", task="regression")
    o = m.add_node("Output", loss, nid=_node_id("output", taken))
    m.connect(sid[res], "out", o, "in")
    _layout(m)
    return Converted(m, state, node_of=node_of, where=where)


def _where(n: fx.Node, own: str) -> Where:
    chain = [tuple(v) for v in n.meta.get("nn_module_stack", {}).values()]
    if own and chain and chain[-1][0] == own:
        chain.pop()  # the layer's own module
    return Where([(p, c) for p, c in chain], own or None, n.name)


def _whole(gm, model, source, kwargs, real, vocab, reason: str) -> Converted:
    """Input -> one opaque node holding the whole model -> Output."""
    ins = [n for n in gm.graph.nodes if n.op == "placeholder"]
    (out,) = [n for n in gm.graph.nodes if n.op == "output"]
    res = out.args[0]
    if len(ins) != 1 or not isinstance(res, fx.Node) or rank(res) is None or rank(res) < 2:
        raise ImportFailed(f"{reason}, and the model does not take one tensor and give one tensor, "
                           "so it cannot be kept whole either")
    m = GraphModel()
    inp = m.add_node("Input", _input_params(ins[0], [], vocab), nid="x")
    dims = _dims(res)
    m.add_node("Opaque", dict(module_type=type(model).__name__, source=source, kwargs=kwargs, path="",
                              in_dims=list(_dims(ins[0])), out_dims=list(dims),
                              weights=sum(p.numel() for p in model.parameters())), nid="model")
    m.connect(inp, "out", "model", "in")
    loss = dict(loss="cross_entropy", task="classification") if len(dims) == 1 else dict(loss="mse", task="regression")
    m.add_node("Output", loss, nid="output")
    m.connect("model", "out", "output", "in")
    _layout(m)
    state = {f"model.{k}": v for k, v in model.state_dict().items()} if real else {}
    return Converted(m, state, opaque={"model": reason}, node_of={"": "model"})


def _stand_in(m: GraphModel, nid: str, n: fx.Node, srcs: list[str]) -> None:
    """A placeholder with the traced shape for a node that failed this round, so
    the nodes after it are still judged in the same round (the model is retraced
    anyway)."""
    if rank(n) is None or rank(n) < 2 or not srcs:
        return
    first = m.shapes.out(srcs[0])
    if first is None:
        return
    m.add_node("Opaque", dict(in_dims=list(first.dims), out_dims=list(_dims(n))), nid=nid)
    m.connect(srcs[0], "out", nid, "in")


def _unused(model: nn.Module, used: set[str]) -> dict[str, int]:
    """Weights in submodules the traced forward never calls (e.g. auxiliary heads
    that only run while training), by the outermost such module."""
    out: dict[str, int] = {}
    for name, p in model.named_parameters():
        owner = name.rpartition(".")[0]
        if name in used or any(owner == u or owner.startswith(u + ".") for u in used):
            continue
        parts = owner.split(".")
        top = next((".".join(parts[:i]) for i in range(1, len(parts) + 1)
                    if not any(u.startswith(".".join(parts[:i]) + ".") or u == ".".join(parts[:i])
                               for u in used)), owner)
        out[top] = out.get(top, 0) + p.numel()
    return out


def alias_of(n: fx.Node, alias: dict) -> fx.Node:
    """The fx node whose traced shape a layer's output must have."""
    return next((f for f, src in alias.items() if src is n), n)


def _check_shape(m: GraphModel, nid: str, n: fx.Node, mp: Mapped) -> None:
    err = m.shapes.error(nid)
    got = m.shapes.out(nid)
    if err or got is None:
        raise _Problem(n, f"{mp.type}: {err or 'no shape'}")
    want = _dims(n) if rank(n) is not None else None
    if tuple(got.dims) != want:
        raise _Problem(n, f"{mp.type} would give {got.full()} where the model gives "
                          f"{'×'.join(map(str, want or ()))}")


def _weights(m: GraphModel, nid: str, mp: Mapped, n: fx.Node, real: bool) -> dict[str, torch.Tensor]:
    """The layer's tensors, named as in the compiled Studio module."""
    if mp.module is None:
        return {}
    src = mp.module.state_dict()
    if mp.type == "Opaque":
        return {f"{nid}.{k}": v for k, v in src.items()} if real else {}
    own = node_module(m, nid).state_dict()
    out, used = {}, set()
    for k, v in own.items():
        key = k if k in src else k.split(".", 1)[-1]  # Studio wrappers add one level (rnn., emb., bn.)
        if key not in src or tuple(src[key].shape) != tuple(v.shape):
            raise _Problem(n, f"{mp.type}: the weight {k} does not fit")
        out[f"{nid}.{k}"] = src[key]
        used.add(key)
    if set(src) - used:
        raise _Problem(n, f"{mp.type} has no place for {', '.join(sorted(set(src) - used))}")
    return out if real else {}


def _layout(m: GraphModel) -> None:
    for nid, p in positions(m.nodes(), [(e.src, e.dst) for e in m.edges()]).items():
        m.move(nid, p)


def kwargs_json(kwargs: dict) -> str:
    return json.dumps(kwargs, sort_keys=True)
