"""The Vision Transformer's pieces around its encoder as Studio layers.

torchvision's VisionTransformer patchifies with a Conv2d, then `x.reshape(n, C, H·W)
.permute(0, 2, 1)`; puts its own `class_token` Parameter in front (`expand` + `cat`);
its Encoder adds the `pos_embedding` Parameter; at the end it takes `x[:, 0]`. fx
records the Parameters as bare `get_attr`s, no layer. The rewrites here turn each
pattern into one call (as layer_scale.py does for ConvNeXt), and `map_vit` makes it
a layer: ImageToSequence, ClassToken (its weight the class_token Parameter),
PositionalEncoding learned (its weight pos_embedding, 1×T×F held as T×F) and
SelectStep.
"""
from __future__ import annotations

import operator

import torch
from torch import fx, nn

from studio.importer.mapping import Mapped, NoLayer, rank

ADD = {operator.add, operator.iadd, torch.add}


def class_token(x, token):
    """torch.cat([token.expand(n, -1, -1), x], dim=1) as one call."""
    return torch.cat([token.expand(x.shape[0], -1, -1), x], dim=1)


def position_embedding(x, pe):
    """x + pe (a 1×T×F Parameter) as one call."""
    return x + pe


def image_to_sequence(x):
    """x.reshape(n, C, H·W).permute(0, 2, 1) (or x.flatten(2).transpose(1, 2)) as one call."""
    return x.flatten(2).transpose(1, 2)


CALLS = (class_token, position_embedding)


def _parameter(model: nn.Module, n) -> nn.Parameter | None:
    if not (isinstance(n, fx.Node) and n.op == "get_attr" and len(n.users) == 1):
        return None
    try:
        p = model.get_parameter(n.target)
    except AttributeError:
        return None
    return p if isinstance(p, nn.Parameter) else None


def _replace(graph: fx.Graph, old: fx.Node, fn, args) -> None:
    with graph.inserting_before(old):
        call = graph.call_function(fn, args)
    call.meta = dict(old.meta)
    old.replace_all_uses_with(call)
    graph.erase_node(old)


def tokens_as_calls(graph: fx.Graph, model: nn.Module) -> None:
    """cat([P.expand(n, -1, -1), x], dim=1) -> class_token(x, P); x + P -> position_embedding(x, P),
    for a Parameter P of the model (1×1×F, resp. 1×T×F) used nowhere else."""
    for n in list(graph.nodes):
        if n.op == "call_function" and n.target is torch.cat and len(n.args) >= 1:
            xs = n.args[0]
            dim = n.args[1] if len(n.args) > 1 else n.kwargs.get("dim", 0)
            if not (isinstance(xs, (list, tuple)) and len(xs) == 2 and dim == 1 and set(n.kwargs) <= {"dim"}):
                continue
            e, x = xs
            if not (isinstance(e, fx.Node) and e.op == "call_method" and e.target == "expand"
                    and len(e.users) == 1 and len(e.args) == 4 and e.args[2:] == (-1, -1)):
                continue
            p = _parameter(model, e.args[0])
            if p is None or p.dim() != 3 or tuple(p.shape[:2]) != (1, 1) or not isinstance(x, fx.Node):
                continue
            token = e.args[0]
            _replace(graph, n, class_token, (x, token))
            graph.erase_node(e)
        elif n.op == "call_function" and n.target in ADD and len(n.args) == 2 and not n.kwargs:
            held = [a for a in n.args if _parameter(model, a) is not None]
            if len(held) != 1:
                continue
            p, x = held[0], n.args[1] if n.args[0] is held[0] else n.args[0]
            param = _parameter(model, p)
            if param.dim() == 3 and param.shape[0] == 1 and isinstance(x, fx.Node):
                _replace(graph, n, position_embedding, (x, p))


def patches_as_calls(graph: fx.Graph) -> None:
    """After sizes are constants: x.reshape(-1, C, H·W).permute(0, 2, 1) of an N×C×H×W image,
    or x.flatten(2).transpose(1, 2), -> image_to_sequence(x); x[:, i] of a sequence is
    renamed select_step (an RNN's `out[:, -1]` is still read by recurrent.py)."""
    for n in list(graph.nodes):
        first = n.args[0] if n.args else None
        if n.op == "call_function" and n.target is operator.getitem and rank(first) == 3 and not n.kwargs \
                and isinstance(n.args[1], tuple) and len(n.args[1]) == 2 and n.args[1][0] == slice(None) \
                and type(n.args[1][1]) is int:
            with graph.inserting_before(n):  # the same getitem, named for the canvas
                named = graph.create_node("call_function", operator.getitem, n.args, name="select_step")
            named.meta = dict(n.meta)
            n.replace_all_uses_with(named)
            graph.erase_node(n)
            continue
        if not (isinstance(first, fx.Node) and len(first.users) == 1 and not n.kwargs and not first.kwargs):
            continue
        x = first.args[0] if first.args else None
        if rank(x) != 4 or rank(first) != 3:
            continue
        c, h, w = x.meta["tensor_meta"].shape[1:]
        merged = tuple(first.meta["tensor_meta"].shape[1:]) == (c, h * w)
        swap = (n.op == "call_method" and n.target == "permute" and tuple(n.args[1:]) in ((0, 2, 1), ((0, 2, 1),))) \
            or (n.op == "call_method" and n.target == "transpose" and set(n.args[1:]) == {1, 2})
        makes = (first.op == "call_method" and first.target in ("reshape", "view", "flatten")) or (
            first.op == "call_function" and first.target is torch.flatten)
        if merged and swap and makes:
            _replace(graph, n, image_to_sequence, (x,))
            graph.erase_node(first)


def held_by_token(n: fx.Node) -> bool:
    """A get_attr read only by class_token / position_embedding calls: their layer holds it."""
    return n.op == "get_attr" and bool(n.users) and all(
        u.op == "call_function" and u.target in CALLS for u in n.users)


class _Holder(nn.Module):
    """Holds a model's Parameter under the Studio layer's weight name (shared, or a view of it)."""

    def __init__(self, name: str, weight: torch.Tensor):
        super().__init__()
        self.register_parameter(name, weight if isinstance(weight, nn.Parameter) else nn.Parameter(weight))


def _dims(n: fx.Node) -> tuple[int, ...]:
    return tuple(int(d) for d in n.meta["tensor_meta"].shape[1:])


def map_vit(n: fx.Node, gm: fx.GraphModule) -> tuple[Mapped, str] | None:
    """The layer (and the Parameter's path, its name on the canvas) for one of these nodes, or None."""
    if n.op == "call_function" and n.target is class_token:
        x, p = n.args
        w = gm.get_parameter(p.target)
        if rank(x) != 3 or tuple(w.shape) != (1, 1, _dims(x)[-1]):
            raise NoLayer(f"{p.target} of shape {'×'.join(map(str, w.shape))} is not one token for a "
                          f"T×F sequence")
        return Mapped("ClassToken", {}, [x], _Holder("class_token", w)), p.target
    if n.op == "call_function" and n.target is position_embedding:
        x, p = n.args
        w = gm.get_parameter(p.target)
        if rank(x) != 3 or tuple(w.shape[1:]) != _dims(x):
            raise NoLayer(f"{p.target} of shape {'×'.join(map(str, w.shape))} added to a "
                          f"{'×'.join(map(str, _dims(x) if rank(x) else ()))} tensor: not one vector per step")
        t, f = _dims(x)
        # PositionalEncoding holds its vectors as max_len×F: the same numbers, without the leading 1.
        return Mapped("PositionalEncoding", dict(kind="learned", max_len=t), [x],
                      _Holder("pe", w.detach().view(t, f))), p.target
    if n.op == "call_function" and n.target is image_to_sequence:
        return Mapped("ImageToSequence", {}, [n.args[0]]), ""
    if n.op == "call_function" and n.target is operator.getitem and rank(n.args[0]) == 3:
        x, index = n.args
        if not (isinstance(index, tuple) and len(index) == 2 and index[0] == slice(None)
                and type(index[1]) is int):
            raise NoLayer("indexing a sequence other than x[:, step]")
        return Mapped("SelectStep", dict(step=index[1]), [x]), ""
    if n.op == "call_method" and n.target in ("reshape", "view") and rank(n.args[0]) is not None:
        x, first, *sizes = n.args
        if first != -1 or n.kwargs or not sizes or not all(type(s) is int for s in sizes):
            raise NoLayer(f".{n.target}() to sizes that are not the batch then fixed whole numbers")
        return Mapped("Reshape", dict(shape=list(sizes)), [x]), ""
    return None
