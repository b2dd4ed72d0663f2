"""A module's own learned multiplier as a LayerScale layer.

ConvNeXt's block ends with `self.layer_scale * self.block(x)`: the multiplier is a
Parameter held by the block itself, which fx records as a bare `get_attr`, not a
layer. `scales_as_calls` rewrites such a product into one call `layer_scale(x, p)`
that keeps the get_attr as its second argument; `map_layer_scale` makes it a
LayerScale layer whose weight is that Parameter.
"""
from __future__ import annotations

import operator

import torch
from torch import fx, nn

from studio.importer.mapping import Mapped, NoLayer, rank

MUL = {operator.mul, operator.imul, torch.mul}


def layer_scale(x, scale):
    """`x * scale` as one call, the form the importer maps to a LayerScale layer."""
    return x * scale


class _Held(nn.Module):
    """Holds the scaled module's Parameter under LayerScale's own weight name."""

    def __init__(self, weight: nn.Parameter):
        super().__init__()
        self.weight = weight


def scales_as_calls(graph: fx.Graph, model: nn.Module) -> None:
    """`p * x` or `x * p`, where p is a Parameter of the model used nowhere else, becomes
    layer_scale(x, p). A buffer or a constant tensor is not a learned scale: left alone."""
    for n in list(graph.nodes):
        if not (n.op == "call_function" and n.target in MUL and len(n.args) == 2 and not n.kwargs):
            continue
        held = [a for a in n.args if isinstance(a, fx.Node) and a.op == "get_attr"]
        if len(held) != 1 or len(held[0].users) != 1:
            continue
        (p,) = held
        x = n.args[1] if n.args[0] is p else n.args[0]
        if not isinstance(x, fx.Node) or not isinstance(_parameter(model, p.target), nn.Parameter):
            continue
        with graph.inserting_before(n):
            call = graph.call_function(layer_scale, (x, p))
        call.meta = dict(n.meta)
        n.replace_all_uses_with(call)
        graph.erase_node(n)


def _parameter(model: nn.Module, target: str):
    try:
        return model.get_parameter(target)
    except AttributeError:
        return None


def is_layer_scale(n: fx.Node) -> bool:
    return n.op == "call_function" and n.target is layer_scale


def held_by_scale(n: fx.Node) -> bool:
    """A get_attr read only by layer_scale calls: their LayerScale layer holds it."""
    return n.op == "get_attr" and bool(n.users) and all(is_layer_scale(u) for u in n.users)


def map_layer_scale(n: fx.Node, gm: fx.GraphModule) -> tuple[Mapped, str]:
    """The LayerScale layer and the Parameter's path in the model (its name on the canvas)."""
    x, p = n.args
    weight = gm.get_parameter(p.target)
    r = rank(x)
    if r is None:
        raise NoLayer("layer scale of something other than a tensor")
    dims = tuple(x.meta["tensor_meta"].shape[1:])
    want = (dims[0], 1, 1) if r == 4 else (dims[-1],)
    if tuple(weight.shape) != want or not weight.is_floating_point():
        raise NoLayer(f"{p.target} of shape {'×'.join(map(str, weight.shape))} multiplies a "
                      f"{'×'.join(map(str, dims))} tensor: not one learned number per channel "
                      f"({'×'.join(map(str, want))})")
    # The value it started from is not kept anywhere (its weights replace it): ConvNeXt's 1e-6.
    return Mapped("LayerScale", {}, [x], _Held(weight)), p.target
