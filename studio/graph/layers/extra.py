"""Layers that imported torchvision models use: more activations, Identity,
stochastic depth, the broadcasting Mul of squeeze-and-excitation, Mean,
ShuffleNet's channel shuffle and chunk, and ConvNeXt's Permute and layer scale
(declared here, after the everyday layers, so the palette lists them after
ConvTranspose2d, Reshape and Dropout)."""
from studio.graph.layers.activation import _activation, need_float
from studio.graph.layers.conv import need_image
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, fmt, register

IN, MULTI, OUT = (Port("in"),), (Port("in", multi=True),), (Port("out"),)

RELU6 = _activation("ReLU6", "ReLU capped at 6, as MobileNetV2 uses; robust in low precision.", "nn.ReLU6")
SILU = _activation("SiLU", "x·sigmoid(x) (also called swish): a smooth ReLU used by EfficientNet.", "nn.SiLU")
HARDSWISH = _activation("Hardswish", "A cheap piecewise-linear SiLU, used by MobileNetV3.", "nn.Hardswish")
HARDSIGMOID = _activation("Hardsigmoid", "A cheap piecewise-linear sigmoid, used by MobileNetV3's "
                                         "squeeze-and-excitation gates.", "nn.Hardsigmoid")

IDENTITY = register(LayerSpec(
    type="Identity", category="Dense & Shape", title="Identity",
    description="Passes its input through unchanged: a placeholder where a layer was removed.",
    params=(), inputs=IN, outputs=OUT, infer=lambda p, ins: ins[0],
    ctor=lambda p, ins: Ctor("nn.Identity", {}), icon="shape",
))

STOCHASTIC_DEPTH = register(LayerSpec(
    type="StochasticDepth", category="Normalization", title="Stochastic depth",
    description=("While training, skips a residual branch for a random part of the batch, so a "
                 "very deep network trains like a shallower one. Does nothing at evaluation."),
    params=(Param("p", "float", 0.1, "Chance that the branch is dropped while training", 0.0, 1.0,
                  label="Rate"),
            Param("mode", "choice", "row", "Drop per example (row) or for the whole batch",
                  choices=("row", "batch"))),
    inputs=IN, outputs=OUT, infer=lambda p, ins: need_float("StochasticDepth", ins[0]),
    ctor=lambda p, ins: Ctor("studio.StochasticDepth", dict(p=p["p"], mode=p["mode"])),
    summary=lambda p: f"{p['p']:g} {p['mode']}", icon="norm",
))


def broadcast(title: str, ins: list[Shape]) -> Shape:
    """The shape of an element-wise op over `ins` of equal rank: each size matches or is 1."""
    if len(ins) < 2:
        raise ShapeError(f"{title} needs at least two input wires")
    if any(x.dtype != "float" for x in ins):
        raise ShapeError(f"{title} needs numbers, not token ids: add an Embedding first")
    if len({len(x) for x in ins}) > 1:  # the batch dimension must line up too
        raise ShapeError(f"{title} needs inputs with as many dimensions, got "
                         f"{' and '.join(x.full() for x in ins)}")
    dims: list[int] = []
    for i in range(1, max(len(x) for x in ins) + 1):
        sizes = {x.dims[-i] for x in ins if len(x) >= i} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{title} cannot combine {' and '.join(x.full() for x in ins)}: "
                             "each size must match or be 1")
        dims.insert(0, sizes.pop() if sizes else 1)
    widest = max(ins, key=len)
    return Shape(tuple(dims), seq=widest.seq)


MUL = register(LayerSpec(
    type="Mul", category="Merge", title="Multiply",
    description=("Multiplies its inputs element by element; a size of 1 stretches to match, so a "
                 "C×1×1 gate scales each channel of a C×H×W image (squeeze-and-excitation)."),
    params=(), inputs=MULTI, outputs=OUT, infer=lambda p, ins: broadcast("Multiply", ins),
    ctor=lambda p, ins: Ctor("studio.Mul", {}),
    macs=lambda p, i, o: o.numel * (len(i) - 1), icon="merge",
))


def _mean_dims(p, x: Shape) -> list[int]:
    n = len(x) + 1  # torch counts the batch as dimension 0
    dims = sorted({d + n if d < 0 else d for d in p["dims"]})
    if any(d < 1 or d >= n for d in dims):
        raise ShapeError(f"Mean dimensions {fmt(p['dims'])} must be between 1 and {n - 1} for "
                         f"{x.full()} (0 is the batch)" + (": 1 averages over time" if x.seq else ""))
    return dims


def _mean_infer(p, ins) -> Shape:
    (x,) = ins
    need_float("Mean", x)
    dims = _mean_dims(p, x)
    out = [1 if i + 1 in dims else d for i, d in enumerate(x.dims)] if p["keepdim"] else \
        [d for i, d in enumerate(x.dims) if i + 1 not in dims]
    return Shape(tuple(out), seq=x.seq and 1 not in dims and bool(out))


MEAN = register(LayerSpec(
    type="Mean", category="Dense & Shape", title="Mean",
    description=("Averages over some dimensions of each example: (2, 3) averages an image's "
                 "height and width, leaving one number per channel (global average pooling); (1) "
                 "averages a T×F sequence over time, leaving one F vector to classify it by."),
    params=(Param("dims", "ints", (2, 3),
                  "Dimensions to average; 0 is the batch, 1 the channels (or time steps)", -6, 6),
            Param("keepdim", "bool", False, "Keep the averaged dimensions with size 1")),
    inputs=IN, outputs=OUT, infer=_mean_infer,
    ctor=lambda p, ins: Ctor("studio.Mean", dict(dims=tuple(_mean_dims(p, ins[0])), keepdim=p["keepdim"])),
    summary=lambda p: "over " + fmt(p["dims"]), macs=lambda p, i, o: i[0].numel, icon="pool",
))


def _shuffle_infer(p, ins) -> Shape:
    (x,) = ins
    need_image("Channel shuffle", x)
    g = p["groups"]
    if x[0] % g:
        raise ShapeError(f"Channel shuffle groups {g} must divide its {x[0]} input channels "
                         f"(each group gets the same number of channels)")
    return x


CHANNEL_SHUFFLE = register(LayerSpec(
    type="ChannelShuffle", category="Convolution", title="Channel shuffle",
    description=("Interleaves the channels of an image: splits them into groups and deals them out "
                 "one from each group in turn, so the next grouped convolution sees channels from "
                 "every group. No weights; ShuffleNet uses it between its branches."),
    params=(Param("groups", "int", 2, "Number of channel groups to interleave (must divide the channels)",
                  1, 1024),),
    inputs=IN, outputs=OUT, infer=_shuffle_infer,
    ctor=lambda p, ins: Ctor("nn.ChannelShuffle", dict(groups=p["groups"])),
    summary=lambda p: f"{p['groups']} groups",
    icon="shape",
))


def _chunk_infer(p, ins) -> Shape:
    (x,) = ins
    need_image("Channel chunk", x)
    n, part = p["chunks"], p["part"]
    c, h, w = x
    if c % n:
        raise ShapeError(f"Channel chunk: {n} chunks must divide its {c} input channels evenly")
    if part >= n:
        raise ShapeError(f"Channel chunk part {part} does not exist: the {n} chunks are numbered 0 to {n - 1}")
    return Shape((c // n, h, w))


CHANNEL_CHUNK = register(LayerSpec(
    type="ChannelChunk", category="Convolution", title="Channel chunk",
    description=("Cuts the channels of an image into equal chunks and passes one of them on. Two of "
                 "these with parts 0 and 1 split an image in two, as ShuffleNet does before working on "
                 "one half and concatenating the other back. No weights."),
    params=(Param("chunks", "int", 2, "Number of equal chunks the channels are cut into", 1, 1024),
            Param("part", "int", 0, "Which chunk to pass on (0 = the first channels)", 0, 1023)),
    inputs=IN, outputs=OUT, infer=_chunk_infer,
    ctor=lambda p, ins: Ctor("studio.ChannelChunk", dict(chunks=p["chunks"], part=p["part"])),
    summary=lambda p: f"chunk {p['part']} of {p['chunks']}",
    icon="shape",
))


def _order(dims) -> str:
    return ", ".join(map(str, dims))


def _permute_dims(p, x: Shape) -> tuple[int, ...]:
    n = len(x) + 1  # torch counts the batch as dimension 0
    dims = tuple(d + n if d < 0 else d for d in p["dims"])
    if sorted(dims) != list(range(n)):
        raise ShapeError(f"Permute order ({_order(p['dims'])}) must list each of the dimensions 0 to {n - 1} "
                         f"of {x.full()} once (0 is the batch)")
    if dims[0] != 0:
        raise ShapeError(f"Permute order ({_order(p['dims'])}) must keep the batch (dimension 0) first")
    return dims


def _permute_infer(p, ins) -> Shape:
    (x,) = ins
    dims = _permute_dims(p, x)
    return Shape(tuple(x.dims[d - 1] for d in dims[1:]), seq=x.seq and dims[1] == 1, dtype=x.dtype,
                 vocab=x.vocab)


PERMUTE = register(LayerSpec(
    type="Permute", category="Dense & Shape", title="Permute",
    description=("Reorders the dimensions of each example, as torch's permute does: (0, 2, 3, 1) turns "
                 "a C×H×W image into H×W×C, so a LayerNorm or a per-position Linear works on its channels, "
                 "and (0, 3, 1, 2) turns it back. No weights."),
    params=(Param("dims", "ints", (0, 2, 3, 1), "New order of the dimensions; the batch (0) stays first",
                  -6, 5, label="Order"),),
    inputs=IN, outputs=OUT, infer=_permute_infer,
    ctor=lambda p, ins: Ctor("studio.Permute", dict(dims=_permute_dims(p, ins[0]))),
    summary=lambda p: _order(p["dims"]), icon="shape",
))


def scale_shape(x: Shape) -> tuple[int, ...]:
    """LayerScale's weight: one number per channel of an image (C×1×1, as ConvNeXt holds it),
    else one per entry of the last dimension."""
    return (x[0], 1, 1) if len(x) == 3 and not x.seq else (x[-1],)


LAYER_SCALE = register(LayerSpec(
    type="LayerScale", trainable=True, category="Normalization", title="Layer scale",
    description=("Multiplies each channel (or each feature of the last dimension) by its own learned "
                 "number. Started small, it lets a residual branch begin almost switched off and grow "
                 "in as it learns; ConvNeXt ends each block with one."),
    params=(Param("init", "float", 1e-6, "Starting value of every multiplier (ConvNeXt: 1e-6)", 0.0, 1e6,
                  label="Initial value"),),
    inputs=IN, outputs=OUT, infer=lambda p, ins: need_float("Layer scale", ins[0]),
    ctor=lambda p, ins: Ctor("studio.LayerScale", dict(shape=scale_shape(ins[0]), init=p["init"])),
    summary=lambda p: f"from {p['init']:g}",
    weights=lambda p, i, o: scale_shape(i[0])[0], macs=lambda p, i, o: o.numel, icon="norm",
))
