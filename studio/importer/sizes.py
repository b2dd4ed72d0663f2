"""Sizes read from tensors in a model's own code, as constants of the import.

`n, c, h, w = x.shape`, `torch._assert(h == self.image_size, ...)` and
`x.reshape(n, self.hidden_dim, h // p * w // p)` trace into nodes that compute
numbers, not tensors, and no layer describes them. The import runs at one input
size, so every such number except the batch size is a constant there: its uses
get the number (checked by Studio's own shape inference afterwards), a passed
`torch._assert` on constants goes, and the batch size as reshape's first size
becomes -1 (the rest fix it). What is left still refuses as before.
"""
from __future__ import annotations

import operator

import torch
from torch import fx
from torch.fx.node import map_aggregate
from torch.fx.passes.shape_prop import ShapeProp

BATCH, WHOLE = "batch", "whole shape"  # the batch size itself / a shape that starts with it
RESHAPES = ("reshape", "view")


def _is_size(v) -> bool:
    if isinstance(v, (bool, int, float)):  # float: e.g. a scale computed from a size
        return True
    return isinstance(v, (torch.Size, tuple, list)) and all(type(d) is int for d in v)


class RecordingShapeProp(ShapeProp):
    """ShapeProp that also keeps each number (or tuple of numbers) a node computed."""

    def run_node(self, n: fx.Node):
        result = super().run_node(n)
        if _is_size(result):
            n.meta["size_value"] = tuple(result) if isinstance(result, (torch.Size, list)) else result
        return result


def _rank(n) -> int | None:
    meta = n.meta.get("tensor_meta") if isinstance(n, fx.Node) else None
    return len(meta.shape) if meta is not None and hasattr(meta, "shape") else None


def _kind(n: fx.Node, kinds: dict) -> str | bool:
    """BATCH, WHOLE, or False for a number that does not depend on the batch size."""
    args = list(n.args) + list(n.kwargs.values())
    src = args[0] if args else None
    r = _rank(src)
    if n.op == "call_function" and n.target is getattr and r is not None:
        return WHOLE if args[1] == "shape" else False if args[1] == "ndim" else BATCH
    if n.op == "call_method" and r is not None:
        if n.target in ("dim", "ndimension"):
            return False
        if n.target == "size":
            if len(args) == 1:
                return WHOLE
            return BATCH if type(args[1]) is int and args[1] % r == 0 else False
        return BATCH  # numel() and the like: unknown, kept
    if n.op == "call_function" and n.target is operator.getitem and kinds.get(src) == WHOLE:
        i = args[1]
        if type(i) is int:
            return BATCH if i % len(src.meta["size_value"]) == 0 else False
        if isinstance(i, slice):
            return WHOLE if 0 in range(len(src.meta["size_value"]))[i] else False
        return BATCH
    used: list = []
    map_aggregate(args, lambda a: used.append(a) if isinstance(a, fx.Node) else None)
    if any(a not in kinds for a in used):  # computed from a tensor some other way
        return BATCH
    return BATCH if any(kinds[a] for a in used) else False


def _substitute(node: fx.Node, consts: dict) -> None:
    node.args = map_aggregate(node.args, lambda a: consts.get(a, a) if isinstance(a, fx.Node) else a)
    node.kwargs = map_aggregate(node.kwargs, lambda a: consts.get(a, a) if isinstance(a, fx.Node) else a)


def fold_sizes(gm: fx.GraphModule) -> None:
    """Constants for the sizes that do not depend on the batch (needs node.meta['size_value'])."""
    g = gm.graph
    kinds: dict[fx.Node, str | bool] = {}
    for n in g.nodes:
        if "size_value" in n.meta and n.op in ("call_function", "call_method"):
            kinds[n] = _kind(n, kinds)
    consts = {n: n.meta["size_value"] for n, k in kinds.items() if k is False}
    if not kinds:
        return
    for n in g.nodes:
        _substitute(n, consts)
    for n in list(g.nodes):
        if n.op == "call_function" and n.target in (torch._assert, torch._assert_async) \
                and n.args and not isinstance(n.args[0], fx.Node) and bool(n.args[0]):
            g.erase_node(n)  # a check that held at the import's input size
        elif n.op == "call_method" and n.target in RESHAPES:
            _batch_as_minus_one(n, kinds)
    g.eliminate_dead_code()
    gm.recompile()


def _batch_as_minus_one(n: fx.Node, kinds: dict) -> None:
    """x.reshape(n, a, b) with n the batch size -> x.reshape(-1, a, b)."""
    x, *sizes = n.args
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    if n.kwargs or not sizes or kinds.get(sizes[0]) != BATCH:
        return
    batch = _rank(x) and x.meta["tensor_meta"].shape[0]
    if sizes[0].meta.get("size_value") != batch or not all(type(s) is int for s in sizes[1:]):
        return
    n.args = (x, -1, *sizes[1:])
