"""Convolution, pooling and normalization layers."""
from .spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, fmt, register

IN, OUT = (Port("in"),), (Port("out"),)


def _need_image(title: str, x: Shape) -> None:
    if len(x) != 3 or x.seq:
        hint = " Did you mean Linear?" if len(x) == 1 else ""
        raise ShapeError(f"{title} needs an image C×H×W, got {x.full()}.{hint}")


def _window(title: str, x: Shape, k: int, s: int, pad: int) -> tuple[int, int]:
    c, h, w = x
    if pad * 2 > k:
        raise ShapeError(f"{title} padding {pad} is more than half its kernel {k}")
    if k > h + 2 * pad or k > w + 2 * pad:
        raise ShapeError(f"{title} kernel {k}×{k} is larger than its {h + 2 * pad}×{w + 2 * pad} "
                         f"input{' (with padding)' if pad else ''}")
    return (h + 2 * pad - k) // s + 1, (w + 2 * pad - k) // s + 1


def _conv_infer(p, ins) -> Shape:
    (x,) = ins
    _need_image("Conv2d", x)
    pad = p["padding"]
    k = p["kernel_size"]
    c, h, w = x
    if k > h + 2 * pad or k > w + 2 * pad:
        raise ShapeError(f"Conv2d kernel {k}×{k} is larger than its {h + 2 * pad}×{w + 2 * pad} input"
                         f"{' (with padding)' if pad else ''}")
    s = p["stride"]
    return Shape((p["out_channels"], (h + 2 * pad - k) // s + 1, (w + 2 * pad - k) // s + 1))


CONV2D = register(LayerSpec(
    type="Conv2d", category="Convolution", title="Conv2d",
    description=("Slides small learned filters over the image. Each filter detects one local "
                 "pattern (an edge, a texture) wherever it appears and makes one output channel. "
                 "The input channels come from the wire; you choose how many filters."),
    params=(
        Param("out_channels", "int", 32, "Number of filters = output channels", 1, 65536, label="Filters"),
        Param("kernel_size", "int", 3, "Filter size k (k×k pixels)", 1, 64, label="Kernel"),
        Param("stride", "int", 1, "Step between filter positions", 1, 64),
        Param("padding", "int", 0, "Zero pixels added around the border (k//2 keeps the size)", 0, 64),
        Param("bias", "bool", True, "Learn an offset per filter (off before BatchNorm)"),
    ),
    inputs=IN, outputs=OUT, infer=_conv_infer,
    ctor=lambda p, ins: Ctor("nn.Conv2d", dict(
        in_channels=ins[0][0], out_channels=p["out_channels"], kernel_size=p["kernel_size"],
        stride=p["stride"], padding=p["padding"], bias=p["bias"])),
    summary=lambda p: f"{p['out_channels']} · {p['kernel_size']}×{p['kernel_size']}"
                      + (f" /{p['stride']}" if p["stride"] > 1 else "")
                      + (f" p{p['padding']}" if p["padding"] else ""),
    weights=lambda p, i, o: i[0][0] * p["out_channels"] * p["kernel_size"] ** 2
                            + (p["out_channels"] if p["bias"] else 0),
    macs=lambda p, i, o: o.numel * i[0][0] * p["kernel_size"] ** 2,
    icon="conv",
))


def _pool(kind: str, blurb: str) -> LayerSpec:
    title = f"{kind}Pool2d"

    def infer(p, ins) -> Shape:
        (x,) = ins
        _need_image(title, x)
        k = p["kernel_size"]
        s = p["stride"] or k
        oh, ow = _window(title, x, k, s, p["padding"])
        return Shape((x[0], oh, ow))

    return register(LayerSpec(
        type=title, category="Pooling", title=title, description=blurb,
        params=(
            Param("kernel_size", "int", 2, "Window size k (k×k pixels)", 1, 64, label="Kernel"),
            Param("stride", "int", 0, "Step between windows (0 = same as the kernel)", 0, 64),
            Param("padding", "int", 0, "Border added first (at most half the kernel)", 0, 32),
        ),
        inputs=IN, outputs=OUT, infer=infer,
        ctor=lambda p, ins: Ctor(f"nn.{title}", dict(
            kernel_size=p["kernel_size"], stride=p["stride"] or p["kernel_size"], padding=p["padding"])),
        summary=lambda p: f"{p['kernel_size']}×{p['kernel_size']}"
                          + (f" /{p['stride']}" if p["stride"] and p["stride"] != p["kernel_size"] else ""),
        macs=(lambda p, i, o: o.numel * p["kernel_size"] ** 2) if kind == "Avg" else (lambda p, i, o: 0),
        icon="pool",
    ))


MAXPOOL = _pool("Max", "Keeps the strongest response in each window, halving the size with the "
                       "default 2×2. Makes features tolerant to small shifts and cuts computation.")
AVGPOOL = _pool("Avg", "Averages each window, shrinking the image smoothly.")


def _adaptive_infer(p, ins) -> Shape:
    (x,) = ins
    _need_image("AdaptiveAvgPool2d", x)
    return Shape((x[0], p["output_size"], p["output_size"]))


ADAPTIVE = register(LayerSpec(
    type="AdaptiveAvgPool2d", category="Pooling", title="AdaptiveAvgPool2d",
    description=("Averages the image down to a fixed size whatever its input size; with size 1 "
                 "it is global average pooling, the usual end of a ResNet."),
    params=(Param("output_size", "int", 1, "Output height and width", 1, 1024, label="Size"),),
    inputs=IN, outputs=OUT, infer=_adaptive_infer,
    ctor=lambda p, ins: Ctor("nn.AdaptiveAvgPool2d", dict(output_size=p["output_size"])),
    summary=lambda p: f"→ {p['output_size']}×{p['output_size']}",
    macs=lambda p, i, o: i[0].numel, icon="pool",
))


def _bn2d_infer(p, ins) -> Shape:
    (x,) = ins
    _need_image("BatchNorm2d", x)
    return x


BATCHNORM2D = register(LayerSpec(
    type="BatchNorm2d", category="Normalization", title="BatchNorm2d",
    description=("Normalizes each channel over the batch, then rescales it with two learned "
                 "numbers. Keeps activations in a healthy range, which speeds up training and "
                 "eases vanishing gradients in deep networks."),
    params=(Param("momentum", "float", 0.1, "How fast the running statistics follow the batches", 0.0, 1.0),),
    inputs=IN, outputs=OUT, infer=_bn2d_infer,
    ctor=lambda p, ins: Ctor("nn.BatchNorm2d", dict(num_features=ins[0][0], momentum=p["momentum"])),
    weights=lambda p, i, o: 2 * i[0][0], macs=lambda p, i, o: 2 * o.numel, icon="norm",
))


def _bn1d_infer(p, ins) -> Shape:
    (x,) = ins
    if x.dtype != "float":
        raise ShapeError("BatchNorm1d needs numbers, not token ids: add an Embedding first")
    if not (len(x) == 1 or (x.seq and len(x) == 2)):
        raise ShapeError(f"BatchNorm1d needs a vector or a T×F sequence, got {x.full()}"
                         + (". Use BatchNorm2d for images." if len(x) == 3 else ""))
    return x


BATCHNORM1D = register(LayerSpec(
    type="BatchNorm1d", category="Normalization", title="BatchNorm1d",
    description=("Normalizes each feature over the batch, for vectors and for the features of "
                 "a sequence. Helps deep fully-connected networks train."),
    params=(Param("momentum", "float", 0.1, "How fast the running statistics follow the batches", 0.0, 1.0),),
    inputs=IN, outputs=OUT, infer=_bn1d_infer,
    ctor=lambda p, ins: (Ctor("studio.SeqBatchNorm1d", dict(num_features=ins[0][-1],
                                                                          momentum=p["momentum"])) if ins[0].seq
                         else Ctor("nn.BatchNorm1d", dict(num_features=ins[0][0], momentum=p["momentum"]))),
    weights=lambda p, i, o: 2 * i[0][-1], macs=lambda p, i, o: 2 * o.numel, icon="norm",
))


def _ln_infer(p, ins) -> Shape:
    (x,) = ins
    if x.dtype != "float":
        raise ShapeError("LayerNorm needs numbers, not token ids: add an Embedding first")
    return x


LAYERNORM = register(LayerSpec(
    type="LayerNorm", category="Normalization", title="LayerNorm",
    description=("Normalizes the last dimension of each example on its own, independent of the "
                 "batch. The usual choice for sequences and transformers."),
    params=(),
    inputs=IN, outputs=OUT, infer=_ln_infer,
    ctor=lambda p, ins: Ctor("nn.LayerNorm", dict(normalized_shape=ins[0][-1])),
    summary=lambda p: "", weights=lambda p, i, o: 2 * i[0][-1], macs=lambda p, i, o: 2 * o.numel,
    icon="norm",
))

__all__ = ["CONV2D", "MAXPOOL", "AVGPOOL", "ADAPTIVE", "BATCHNORM2D", "BATCHNORM1D", "LAYERNORM", "fmt"]
