"""Compile a valid graph into a torch.fx.GraphModule whose submodules are named
after the node ids, so weights map one-to-one to nodes."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import networkx as nx
import torch
from torch import fx, nn

from studio.graph import modules as helper_modules
from studio.graph.layers import spec
from studio.graph.spec import Ctor
from studio.graph.validate import Problem, validate

if TYPE_CHECKING:
    from studio.graph.model import GraphModel


class CompileError(ValueError):
    exit_code = 2  # the CLI's "bad input", as for train (SetupError) and the other loaders

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = [str(p) for p in problems[:8]]
        if len(problems) > 8:
            lines.append(f"... and {len(problems) - 8} more")
        super().__init__("The network is not valid yet:\n  " + "\n  ".join(lines))


def resolve(ctor: Ctor):
    ns, _, name = ctor.name.partition(".")
    if ns == "nn":
        return getattr(nn, name)
    if ns == "studio":
        return getattr(helper_modules, name)
    if ns == "opaque":  # a reference to an imported module, rebuilt under studio.graph.opaque's rules
        from studio.graph.opaque import build
        return build
    raise ValueError(f"unknown constructor namespace in {ctor.name}")


def build_module(type_: str, params: dict, ins) -> nn.Module:
    s = spec(type_)
    c = s.ctor(params, list(ins))
    return resolve(c)(**c.kwargs)


def plan(model: "GraphModel") -> tuple[list[str], list[str], str]:
    """(inputs in forward-argument order, layer nodes in execution order, output node)."""
    problems = validate(model)
    if problems:
        raise CompileError(problems)
    g = model.g
    start, end = ("BlockInput", "BlockOutput") if model.is_body else ("Input", "Output")
    out = model.of_type(end)[0]
    needed = nx.ancestors(g, out) | {out}
    order = [n for n in nx.lexicographical_topological_sort(g) if n in needed]
    inputs = sorted((n for n in order if model.type_of(n) == start),
                    key=lambda n: (model.pos(n)[1], n))
    layers = [n for n in order if model.type_of(n) not in (start, end)]
    return inputs, layers, out


def input_args(model: "GraphModel", nid: str) -> list[str]:
    """Source node ids feeding `nid`, ports in declaration order, wires in insertion order."""
    s = spec(model.type_of(nid))
    return [e.src for port in s.inputs for e in model.in_edges(nid, port.name)]


def class_name(text: str, fallback: str = "Block") -> str:
    """A block's name as a Python class name: letters, digits and _ only."""
    name = re.sub(r"\W", "_", text, flags=re.ASCII).strip("_")[:60]
    if not name or name[0].isdigit():
        name = f"{fallback}_{name}" if name else fallback
    return name


def build_block(model: "GraphModel", nid: str) -> nn.Module:
    """A block as one module: its compiled body, or an nn.Sequential of `repeat` copies
    (each with its own weights)."""
    body, p = model.body(nid), model.params(nid)
    name = class_name(p["name"])
    copies = [compile_graph(body, name) for _ in range(p["repeat"])]
    return copies[0] if len(copies) == 1 else nn.Sequential(*copies)


def node_module(model: "GraphModel", nid: str) -> nn.Module:
    """The module node `nid` compiles to (a block's whole inside included)."""
    if model.type_of(nid) == "Block":
        return build_block(model, nid)
    return build_module(model.type_of(nid), model.params(nid), model.shapes.info[nid].inputs)


def compile_graph(model: "GraphModel", name: str = "StudioModel") -> fx.GraphModule:
    inputs, layers, out = plan(model)
    root = nn.Module()
    graph = fx.Graph()
    env: dict[str, fx.Node] = {}
    for nid in inputs:
        env[nid] = graph.placeholder(nid)
    for nid in layers:
        root.add_module(nid, node_module(model, nid))
        env[nid] = graph.call_module(nid, tuple(env[s] for s in input_args(model, nid)))
    (src,) = input_args(model, out)
    graph.output(env[src])
    gm = fx.GraphModule(root, graph, class_name=name)
    return gm


def example_inputs(model: "GraphModel", batch: int = 2, device="cpu") -> tuple[torch.Tensor, ...]:
    """Random inputs of the right shape and dtype for each Input node, in forward order."""
    inputs, _, _ = plan(model)
    out = []
    for nid in inputs:
        shape = model.shapes.out(nid)
        if shape.dtype == "long":
            out.append(torch.randint(0, shape.vocab, (batch, *shape.dims), device=device))
        else:
            out.append(torch.randn(batch, *shape.dims, device=device))
    return tuple(out)
