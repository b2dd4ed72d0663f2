"""Graph validation: every problem is attached to the node it concerns, in
words a learner understands, with a one-click fix where one is obvious."""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

from studio.graph.fixes import Fix, InsertLayer, SetParam, apply_fix  # noqa: F401 - apply_fix: callers import it here
from studio.graph.layers import spec
from studio.graph.layers.io import RECONSTRUCTION_LOSSES, TASK_OF_LOSS

if TYPE_CHECKING:
    from studio.graph.model import GraphModel


@dataclass(frozen=True)
class Problem:
    node: str | None  # None: the graph as a whole
    message: str
    fix: Fix | None = None
    shape: bool = False  # from shape inference, so it may change with the Input's shape
    alternatives: tuple[Fix, ...] = ()  # other cures, when the user's intent decides (offered beside fix)

    @property
    def fixes(self) -> tuple[Fix, ...]:
        return ((self.fix,) if self.fix is not None else ()) + self.alternatives

    def __str__(self) -> str:
        return f"{self.node}: {self.message}" if self.node else self.message


def _fix_for(model: "GraphModel", nid: str) -> InsertLayer | None:
    """The layer type the shape inference named as the cure, put on the one input wire."""
    layer = model.shapes.fix_layer(nid)
    ins = model.in_edges(nid)
    if layer is None or len(ins) != 1:
        return None
    return InsertLayer(f"Insert {spec(layer).title}", layer, ins[0].id)


def _alternatives(model: "GraphModel", nid: str, fix: InsertLayer | None) -> tuple[Fix, ...]:
    """An image wired straight from the Input into a recurrent layer: reading it by rows
    is one cure, but the user may have meant a sequence Input all along."""
    ins = model.in_edges(nid)
    if fix is None or fix.layer != "ImageRows" or len(ins) != 1:
        return ()
    src = ins[0].src
    if model.type_of(src) != "Input" or model.params(src).get("kind") != "image":
        return ()
    return (SetParam("Make the Input a sequence (T×F)", src, "kind", "sequence"),)


# Topological order and reachability depend on the wiring only, so they are kept
# per model, keyed by its structure_version, and a parameter edit (the common
# case) reuses them. Weak keys: a closed project's entry goes with its model.
_structure_cache: "weakref.WeakKeyDictionary[GraphModel, tuple[int, tuple]]" = weakref.WeakKeyDictionary()


def _structure(model: "GraphModel", inputs: list[str], outputs: list[str]):
    cached = _structure_cache.get(model)
    if cached is not None and cached[0] == model.structure_version:
        return cached[1]
    g = model.g
    try:
        order = list(nx.topological_sort(g))
    except nx.NetworkXUnfeasible:
        order = sorted(g)
    reach_in: set[str] = set(inputs)
    for n in inputs:
        reach_in |= nx.descendants(g, n)
    reach_out: set[str] = set(outputs)
    for n in outputs:
        reach_out |= nx.ancestors(g, n)
    result = (order, frozenset(reach_in), frozenset(reach_out))
    _structure_cache[model] = (model.structure_version, result)
    return result


def _ends(model: "GraphModel", problems: list[Problem]) -> tuple[list[str], list[str]]:
    if model.is_body:
        inputs, outputs = model.of_type("BlockInput"), model.of_type("BlockOutput")
        if not inputs:
            problems.append(Problem(None, "This block has no Block input: data cannot enter it"))
        if not outputs:
            problems.append(Problem(None, "This block has no Block output: nothing leaves it"))
        for extra in inputs[1:] + outputs[1:]:
            problems.append(Problem(extra, "A block has one input and one output; remove the extra one"))
        return inputs, outputs
    inputs, outputs = model.inputs(), model.outputs()
    if not inputs:
        problems.append(Problem(None, "The network has no Input layer: add one from the palette"))
    if not outputs:
        problems.append(Problem(None, "The network has no Output layer: add one to choose the loss"))
    for extra in outputs[1:]:
        problems.append(Problem(extra, "Only one Output is supported; remove the extra one"))
    return inputs, outputs


def _inside(model: "GraphModel", nid: str) -> list[Problem]:
    """Wiring problems inside a block, reported on the block (its shape errors already are).
    Fixes stay behind: they act on the inside, where the block's own view offers them."""
    name = model.params(nid)["name"]
    return [Problem(nid, f"Inside {name}" + (f", {p.node}" if p.node else "") + f": {p.message}")
            for p in validate(model.body(nid)) if not p.shape]


def validate(model: "GraphModel") -> list[Problem]:
    problems: list[Problem] = []
    inputs, outputs = _ends(model, problems)

    order, reach_in, reach_out = _structure(model, inputs, outputs)

    for nid in order:
        s = spec(model.type_of(nid))
        wiring = False
        for port in s.inputs:
            k = len(model.in_edges(nid, port.name))
            if k == 0:
                problems.append(Problem(nid, f"{s.title} has no input wire: connect a layer to it"))
                wiring = True
            elif k > 1 and not port.multi:
                problems.append(Problem(nid, f"{s.title} takes one input wire but has {k}; "
                                             "merge them first with Add or Concat"))
                wiring = True
        err = model.shapes.error(nid)
        if err:
            fix = _fix_for(model, nid)
            problems.append(Problem(nid, err, fix, shape=True, alternatives=_alternatives(model, nid, fix)))
            continue
        if wiring:
            continue
        if s.type == "Block":
            problems += _inside(model, nid)
        # Only the ends of a break are flagged: one missing wire used to paint every
        # layer upstream (or downstream) of it red.
        if nid not in reach_in:
            if all(p in reach_in for p in model.g.predecessors(nid)):
                problems.append(Problem(nid, f"No data reaches this {s.title}: it is not connected to an Input"))
        elif outputs and nid not in reach_out:
            if all(n in reach_out or n not in reach_in for n in model.g.successors(nid)):
                problems.append(Problem(nid, f"The result of this {s.title} is not used: "
                                             "connect it on towards the Output"))
        if s.type == "Output":
            p = model.params(nid)
            if p["task"] == "reconstruction":
                problems += _reconstruction_problems(model, nid, p)
            elif TASK_OF_LOSS[p["loss"]] != p["task"]:
                problems.append(Problem(nid, f"The {p['loss'].replace('_', ' ')} loss is for "
                                             f"{TASK_OF_LOSS[p['loss']]}, but the task is {p['task']}"))
    return problems


def _reconstruction_problems(model: "GraphModel", out: str, p: dict) -> list[Problem]:
    """A reconstruction compares the output with the Input: same shape, a numeric loss."""
    if p["loss"] not in RECONSTRUCTION_LOSSES:
        return [Problem(out, "A reconstruction compares the output with the input pixel by pixel: "
                             "use mean squared error, L1 or binary cross-entropy, not "
                             f"{p['loss'].replace('_', ' ')}")]
    ins = [n for n in model.nodes() if model.type_of(n) == "Input"]
    got = model.shapes.out(model.in_edges(out)[0].src) if model.in_edges(out) else None
    want = model.shapes.out(ins[0]) if len(ins) == 1 else None
    if got is not None and want is not None and got.dims != want.dims:
        return [Problem(out, f"The reconstruction is {got.full()} but the input is {want.full()}: "
                             "the decoder must end with the input's shape", shape=True)]
    return []


def problems_by_node(problems: list[Problem]) -> dict[str | None, list[Problem]]:
    out: dict[str | None, list[Problem]] = {}
    for p in problems:
        out.setdefault(p.node, []).append(p)
    return out
