"""Which catalogue layer an fx node is: rules for torch modules, functions and
methods. A rule returns (layer type, params, tensor inputs) or a reason why the
node is not one of Studio's layers; the builder then keeps the enclosing module
opaque. Shapes are checked afterwards, so a rule only has to get the meaning right.
"""
from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from studio.importer.attention import ENCODERS, encoder_params, weights_holder


@dataclass
class Mapped:
    type: str
    params: dict = field(default_factory=dict)
    inputs: list = field(default_factory=list)  # fx nodes, in port order
    module: nn.Module | None = None  # whose weights the layer takes


class NoLayer(Exception):
    """This node is not a catalogue layer; the message says why."""


def _pair(v, what: str) -> int:
    if isinstance(v, (tuple, list)):
        if len(set(v)) != 1:
            raise NoLayer(f"{what} {tuple(v)} is not square")
        return int(v[0])
    return int(v)


def _size2(v) -> int | tuple[int, int]:
    """A Conv2d size as Studio's "size2" param holds it: an int when square, else (height, width)."""
    if isinstance(v, (tuple, list)):
        h, w = (int(x) for x in v) if len(v) == 2 else (int(v[0]),) * 2
        return h if h == w else (h, w)
    return int(v)


def _conv(m: nn.Conv2d) -> dict:
    if m.padding_mode != "zeros" or isinstance(m.padding, str):
        raise NoLayer(f"padding {m.padding!r} ({m.padding_mode}) is not zero padding by a number")
    return dict(out_channels=m.out_channels, kernel_size=_size2(m.kernel_size),
                stride=_size2(m.stride), padding=_size2(m.padding),
                bias=m.bias is not None, groups=m.groups, dilation=_size2(m.dilation))


def _tconv(m: nn.ConvTranspose2d) -> dict:
    if m.padding_mode != "zeros" or m.groups != 1 or _pair(m.dilation, "dilation") != 1:
        raise NoLayer("transposed convolution with groups, dilation or non-zero padding")
    return dict(out_channels=m.out_channels, kernel_size=_pair(m.kernel_size, "kernel"),
                stride=_pair(m.stride, "stride"), padding=_pair(m.padding, "padding"),
                output_padding=_pair(m.output_padding, "output padding"), bias=m.bias is not None)


def _upsample(m: nn.Upsample) -> dict:
    f = m.scale_factor
    f = f[0] if isinstance(f, tuple) and len(set(f)) == 1 else f
    if m.size is not None or not isinstance(f, (int, float)) or float(f) != int(f) \
            or m.mode not in ("nearest", "bilinear") or m.align_corners or m.recompute_scale_factor:
        raise NoLayer("Upsample to a size, by a fraction, or with aligned corners")
    return dict(scale_factor=int(f), mode=m.mode)


def _bn(m) -> dict:
    if not (m.affine and m.track_running_stats) or m.momentum is None:
        raise NoLayer("BatchNorm without learned scale, running statistics or momentum")
    return dict(momentum=float(m.momentum), eps=float(m.eps))


def _pool(m, kind: str) -> dict:
    return _pool_args(kind, m.kernel_size, m.stride, m.padding, getattr(m, "dilation", 1), m.ceil_mode,
                      getattr(m, "count_include_pad", True), getattr(m, "divisor_override", None))


def _pool_args(kind, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> dict:
    if kind == "Max" and _pair(dilation, "dilation") != 1:
        raise NoLayer("dilated pooling")
    if kind == "Avg" and (not count_include_pad or divisor_override):
        raise NoLayer("average pooling that excludes the padding")
    k = _pair(kernel_size, "kernel")
    s = _pair(stride if stride not in (None, [], ()) else k, "stride")
    return dict(kernel_size=k, stride=s, padding=_pair(padding, "padding"), ceil_mode=bool(ceil_mode))


def _functional_pool(node, kind: str) -> dict:
    names = ["input", "kernel_size", "stride", "padding"] + (
        ["dilation", "ceil_mode"] if kind == "Max" else ["ceil_mode", "count_include_pad", "divisor_override"])
    args = dict(zip(names, node.args)) | dict(node.kwargs)
    args.pop("input", None)
    if args.pop("return_indices", False):
        raise NoLayer("max pooling that returns indices")
    try:
        return _pool_args(kind, **args)
    except TypeError:
        raise NoLayer(f"{kind.lower()}_pool2d with unexpected arguments") from None


def _adaptive(size) -> dict:
    if size is None or (isinstance(size, (tuple, list)) and None in size):
        raise NoLayer("adaptive pooling that keeps a size")
    return dict(output_size=_pair(size, "output size"))


def _layernorm(m: nn.LayerNorm) -> dict:
    if len(m.normalized_shape) != 1 or not m.elementwise_affine or m.bias is None:
        raise NoLayer("LayerNorm over more than the last dimension, or without learned scale and shift")
    return dict(eps=float(m.eps))


def _linear(m: nn.Linear) -> dict:
    return dict(out_features=m.out_features, bias=m.bias is not None)


def _embedding(m: nn.Embedding) -> dict:
    if m.padding_idx is not None or m.max_norm is not None or m.sparse:
        raise NoLayer("Embedding with padding_idx, max_norm or sparse gradients")
    return dict(embedding_dim=m.embedding_dim)


def _dropout(m) -> dict:
    return dict(p=float(m.p))


def _gelu(m) -> dict:
    if m.approximate != "none":
        raise NoLayer("tanh-approximated GELU")
    return {}


def _flatten(m: nn.Flatten) -> dict:
    if (m.start_dim, m.end_dim) != (1, -1):
        raise NoLayer(f"Flatten from dimension {m.start_dim} to {m.end_dim}")
    return {}


def _stochastic_depth(m) -> dict:
    return dict(p=float(m.p), mode=m.mode)


MODULE_RULES: dict[type, tuple[str, Any]] = {
    nn.Conv2d: ("Conv2d", _conv),
    nn.ConvTranspose2d: ("ConvTranspose2d", _tconv), nn.Upsample: ("Upsample", _upsample),
    nn.BatchNorm2d: ("BatchNorm2d", _bn),
    nn.BatchNorm1d: ("BatchNorm1d", _bn),
    nn.LayerNorm: ("LayerNorm", _layernorm),
    nn.Linear: ("Linear", _linear),
    nn.MaxPool2d: ("MaxPool2d", lambda m: _pool(m, "Max")),
    nn.AvgPool2d: ("AvgPool2d", lambda m: _pool(m, "Avg")),
    nn.AdaptiveAvgPool2d: ("AdaptiveAvgPool2d", lambda m: _adaptive(m.output_size)),
    nn.ReLU: ("ReLU", None), nn.ReLU6: ("ReLU6", None), nn.SiLU: ("SiLU", None),
    nn.GELU: ("GELU", _gelu), nn.Sigmoid: ("Sigmoid", None), nn.Tanh: ("Tanh", None),
    nn.Hardswish: ("Hardswish", None), nn.Hardsigmoid: ("Hardsigmoid", None),
    nn.LeakyReLU: ("LeakyReLU", lambda m: dict(negative_slope=float(m.negative_slope))),
    nn.Identity: ("Identity", None), nn.Dropout: ("Dropout", _dropout),
    nn.Flatten: ("Flatten", _flatten), nn.Embedding: ("Embedding", _embedding),
    nn.ChannelShuffle: ("ChannelShuffle", lambda m: dict(groups=int(m.groups))),
}
try:  # torchvision's LayerNorm over channels (ConvNeXt)
    from torchvision.models.convnext import LayerNorm2d as TVLayerNorm2d
    MODULE_RULES[TVLayerNorm2d] = ("LayerNorm2d", _layernorm)
except ImportError:  # pragma: no cover - torchvision is a dependency
    pass
try:  # torchvision's stochastic depth (EfficientNet, ConvNeXt, Swin)
    from torchvision.ops import StochasticDepth as TVStochasticDepth
    MODULE_RULES[TVStochasticDepth] = ("StochasticDepth", _stochastic_depth)
except ImportError:  # pragma: no cover - torchvision is a dependency
    TVStochasticDepth = None
try:  # torchvision's Permute module (ConvNeXt's CNBlock)
    from torchvision.ops.misc import Permute as TVPermute
    MODULE_RULES[TVPermute] = ("Permute", lambda m: dict(dims=list(m.dims)))
except ImportError:  # pragma: no cover - torchvision is a dependency
    pass

# Module-level functions of model code that fx keeps as one call (not traced into
# tensor methods), so a rule below can map the call to a layer.
LEAF_FUNCTIONS: list = []
try:  # ShuffleNetV2's channel_shuffle(x, groups): view, transpose, view
    from torchvision.models.shufflenetv2 import channel_shuffle as tv_channel_shuffle
    LEAF_FUNCTIONS.append(tv_channel_shuffle)
except ImportError:  # pragma: no cover - torchvision is a dependency
    tv_channel_shuffle = None


def channel_chunk(x, chunks: int, part: int):
    """`x.chunk(chunks, dim=1)[part]` as one call: trace.py rewrites a chunk whose parts are
    only indexed into these, so each part can be a ChannelChunk layer."""
    return x.chunk(chunks, 1)[part]


ACTIVATION_FUNCTIONS = {
    F.relu: "ReLU", torch.relu: "ReLU", F.relu6: "ReLU6", F.silu: "SiLU", F.gelu: "GELU",
    torch.sigmoid: "Sigmoid", F.sigmoid: "Sigmoid", torch.tanh: "Tanh", F.tanh: "Tanh",
    F.hardswish: "Hardswish", F.hardsigmoid: "Hardsigmoid",
}
ACTIVATION_METHODS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}
ADD = {operator.add, operator.iadd, torch.add}
MUL = {operator.mul, operator.imul, torch.mul}


# torch's Transformer encoders (rules in attention.py)
def _encoder(m) -> dict:
    try:
        return encoder_params(m)
    except ValueError as e:
        raise NoLayer(str(e)) from None


MODULE_RULES.update({t: ("TransformerEncoder", _encoder) for t in ENCODERS})
RECURRENT = {nn.LSTM: "LSTM", nn.GRU: "GRU", nn.RNN: "RNN"}


def leaf_types() -> tuple[type, ...]:
    return tuple(t for t in MODULE_RULES) + tuple(RECURRENT)


# Studio's own helper modules, as a generated .py file defines them: recognised by
# name and identical source, so an exported network imports back layer for layer.
def _recurrent_helper(m) -> tuple[str, dict]:
    kind = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN"}[type(m.rnn).__name__]
    return kind, dict(hidden_size=m.rnn.hidden_size, num_layers=m.rnn.num_layers,
                      bidirectional=m.rnn.bidirectional, dropout=float(m.rnn.dropout),
                      output="last step" if m.last_only else "all steps")


HELPER_RULES = {
    "TransformerEncoderStack": lambda m: ("TransformerEncoder", _encoder(m.encoder)),
    "PositionalEncoding": lambda m: ("PositionalEncoding", dict(kind=m.kind, max_len=m.max_len)),
    "Add": lambda m: ("Add", {}), "Mul": lambda m: ("Mul", {}), "Concat": lambda m: ("Concat", {}),
    "Mean": lambda m: ("Mean", dict(dims=list(m.dims), keepdim=m.keepdim)),
    "StochasticDepth": lambda m: ("StochasticDepth", _stochastic_depth(m)),
    "ImageRows": lambda m: ("ImageRows", {}),
    "TokenEmbedding": lambda m: ("Embedding", dict(embedding_dim=m.emb.embedding_dim)),
    "SeqBatchNorm1d": lambda m: ("BatchNorm1d", _bn(m.bn)),
    "LayerNorm2d": lambda m: ("LayerNorm2d", _layernorm(m)),
    "ChannelChunk": lambda m: ("ChannelChunk", dict(chunks=m.chunks, part=m.part)),
    "Permute": lambda m: ("Permute", dict(dims=list(m.dims))),
    "LayerScale": lambda m: ("LayerScale", dict(init=m.init)),
    "Recurrent": _recurrent_helper,
}


def studio_helper(m: nn.Module) -> str | None:
    """The name of the Studio helper module `m` is a copy of, or None."""
    return _helper_name(type(m)) if type(m).__name__ in HELPER_RULES else None


@functools.lru_cache(maxsize=None)
def _helper_name(cls: type) -> str | None:
    import inspect

    from studio.graph import modules as helpers
    try:
        same = inspect.getsource(cls) == inspect.getsource(getattr(helpers, cls.__name__))
    except (OSError, TypeError):
        return None
    return cls.__name__ if same else None


def rank(node) -> int | None:
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    return len(meta.shape) if meta is not None and hasattr(meta, "shape") else None


def _tensor_args(node: fx.Node, args) -> list:
    if not all(isinstance(a, fx.Node) and rank(a) is not None for a in args):
        raise NoLayer(f"{_name(node)} takes something other than tensors")
    return list(args)


def _name(node: fx.Node) -> str:
    t = node.target
    return node.target if isinstance(t, str) else getattr(t, "__name__", str(t))


def _dim_arg(node: fx.Node, pos: int, key: str, default):
    if len(node.args) > pos:
        return node.args[pos]
    return node.kwargs.get(key, default)


def map_module(node: fx.Node, module: nn.Module) -> Mapped:
    helper = studio_helper(module)
    if helper is not None:
        if node.kwargs:
            raise NoLayer(f"{helper} is called with keyword arguments")
        type_, params = HELPER_RULES[helper](module)
        if type_ == "Concat" and module.dim not in ((1, -3) if rank(node) == 4 else (-1, (rank(node) or 0) - 1)):
            raise NoLayer(f"Concat along dimension {module.dim}")
        return Mapped(type_, params, _tensor_args(node, node.args), module)
    rule = MODULE_RULES.get(type(module))
    if rule is None:
        raise NoLayer(f"{type(module).__name__} is not a Studio layer")
    type_, params_of = rule
    if node.kwargs or len(node.args) != 1:
        raise NoLayer(f"{type(module).__name__} is called with extra arguments")
    params = params_of(module) if params_of else {}
    if type_ == "TransformerEncoder":  # a lone encoder layer's weights named as in a stack
        module = weights_holder(module)
    if type_ == "Linear" and (rank(node.args[0]) or 0) >= 4:  # over the channels of N×H×W×C
        params["per_position"] = True
    return Mapped(type_, params, _tensor_args(node, node.args), module)


def map_function(node: fx.Node) -> Mapped:
    t = node.target
    if node.op == "call_method":
        if t in ACTIVATION_METHODS and len(node.args) == 1 and not node.kwargs:
            return Mapped(ACTIVATION_METHODS[t], {}, _tensor_args(node, node.args))
        if t == "flatten":
            return _flatten_call(node)
        if t == "mean":
            return _mean_call(node)
        if t == "permute":
            return _permute_call(node)
        raise NoLayer(f"tensor method .{t}() is not a Studio layer")
    if t in ACTIVATION_FUNCTIONS:
        extra = {k: v for k, v in node.kwargs.items() if k != "inplace"}
        if len(node.args) != 1 and not (len(node.args) == 2 and isinstance(node.args[1], bool)) or extra:
            raise NoLayer(f"{_name(node)} with extra arguments")
        return Mapped(ACTIVATION_FUNCTIONS[t], {}, _tensor_args(node, node.args[:1]))
    if t in ADD or t in MUL:
        if node.kwargs or len(node.args) != 2:
            raise NoLayer(f"{_name(node)} with extra arguments")
        return Mapped("Add" if t in ADD else "Mul", {}, _tensor_args(node, node.args))
    if t is torch.cat:
        xs = node.args[0] if node.args else node.kwargs.get("tensors")
        dim = _dim_arg(node, 1, "dim", 0)
        if not isinstance(xs, (list, tuple)) or not xs:
            raise NoLayer("cat of no tensors")
        if len(xs) == 1:  # DenseNet concatenates a one-tensor list first
            return Mapped("Identity", {}, _tensor_args(node, xs))
        r = rank(xs[0])
        if r is None or dim not in ({1, -3} if r == 4 else {r - 1, -1}):  # Concat's own axis
            raise NoLayer(f"cat along dimension {dim}")
        return Mapped("Concat", {}, _tensor_args(node, xs))
    if t is torch.flatten:
        return _flatten_call(node)
    if t is torch.mean:
        return _mean_call(node)
    if t is torch.permute:
        return _permute_call(node)
    if t is F.adaptive_avg_pool2d:
        return Mapped("AdaptiveAvgPool2d", _adaptive(_dim_arg(node, 1, "output_size", None)),
                      _tensor_args(node, node.args[:1]))
    if t in (F.max_pool2d, F.avg_pool2d):
        kind = "Max" if t is F.max_pool2d else "Avg"
        return Mapped(f"{kind}Pool2d", _functional_pool(node, kind), _tensor_args(node, node.args[:1]))
    if tv_channel_shuffle is not None and t is tv_channel_shuffle:
        return _channel_shuffle_call(node)
    if t is channel_chunk:
        return _channel_chunk_call(node)
    if t is F.dropout:
        if _dim_arg(node, 2, "training", True) is not False:
            raise NoLayer("functional dropout that depends on the training flag")
        return Mapped("Identity", {}, _tensor_args(node, node.args[:1]))
    raise NoLayer(f"{_name(node)}() is not a Studio layer")


def _channel_shuffle_call(node: fx.Node) -> Mapped:
    groups = _dim_arg(node, 1, "groups", None)
    if isinstance(groups, bool) or not isinstance(groups, int) or set(node.kwargs) - {"x", "groups"}:
        raise NoLayer(f"channel_shuffle with groups {groups!r}, not a fixed whole number")
    x = node.args[0] if node.args else node.kwargs.get("x")
    return Mapped("ChannelShuffle", dict(groups=groups), _tensor_args(node, [x]))


def _channel_chunk_call(node: fx.Node) -> Mapped:
    x, chunks, part = node.args
    if rank(x) != 4:
        raise NoLayer(f"chunk of a rank-{rank(x)} tensor (ChannelChunk cuts an image's channels)")
    channels = x.meta["tensor_meta"].shape[1]
    if channels % chunks:
        raise NoLayer(f"chunk of {channels} channels into {chunks} unequal parts")
    return Mapped("ChannelChunk", dict(chunks=chunks, part=part % chunks), _tensor_args(node, [x]))


def _permute_call(node: fx.Node) -> Mapped:
    """x.permute(0, 2, 3, 1), x.permute([0, 2, 3, 1]) or torch.permute(x, dims)."""
    x, *dims = node.args or (node.kwargs.get("input"),)
    dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else dims or node.kwargs.get("dims")
    if not isinstance(dims, (list, tuple)) or not all(type(d) is int for d in dims) or \
            set(node.kwargs) - {"input", "dims"}:
        raise NoLayer("permute by an order that is not fixed whole numbers")
    return Mapped("Permute", dict(dims=list(dims)), _tensor_args(node, [x]))


def _flatten_call(node: fx.Node) -> Mapped:
    start = _dim_arg(node, 1, "start_dim", 0)
    end = _dim_arg(node, 2, "end_dim", -1)
    if (start, end) != (1, -1):
        raise NoLayer(f"flatten from dimension {start} to {end}")
    return Mapped("Flatten", {}, _tensor_args(node, node.args[:1]))


def _mean_call(node: fx.Node) -> Mapped:
    dims = _dim_arg(node, 1, "dim", None)
    keep = _dim_arg(node, 2, "keepdim", False)
    if isinstance(dims, int):
        dims = [dims]
    if not isinstance(dims, (list, tuple)) or not dims or not isinstance(keep, bool) \
            or set(node.kwargs) - {"dim", "keepdim"}:
        raise NoLayer("mean over every dimension, or with a dtype")
    r = rank(node.args[0])
    if r is None or any((d % r) == 0 for d in dims):
        raise NoLayer("mean over the batch")
    return Mapped("Mean", dict(dims=list(dims), keepdim=keep), _tensor_args(node, node.args[:1]))
