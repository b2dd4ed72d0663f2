"""Convolution, and the image checks that pooling and normalization share."""
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, register

IN, OUT = (Port("in"),), (Port("out"),)


def need_image(title: str, x: Shape) -> None:
    if len(x) != 3 or x.seq:
        hint = " Did you mean Linear?" if len(x) == 1 else ""
        raise ShapeError(f"{title} needs an image C×H×W, got {x.full()}.{hint}")


def window(title: str, x: Shape, k: int, s: int, pad: int) -> tuple[int, int]:
    c, h, w = x
    if pad * 2 > k:
        raise ShapeError(f"{title} padding {pad} is more than half its kernel {k}")
    if k > h + 2 * pad or k > w + 2 * pad:
        raise ShapeError(f"{title} kernel {k}×{k} is larger than its {h + 2 * pad}×{w + 2 * pad} "
                         f"input{' (with padding)' if pad else ''}")
    return (h + 2 * pad - k) // s + 1, (w + 2 * pad - k) // s + 1


def _conv_infer(p, ins) -> Shape:
    (x,) = ins
    need_image("Conv2d", x)
    pad, k, d, g = p["padding"], p["kernel_size"], p["dilation"], p["groups"]
    c, h, w = x
    if c % g or p["out_channels"] % g:
        raise ShapeError(f"Conv2d groups {g} must divide its {c} input channels and its "
                         f"{p['out_channels']} filters")
    span = d * (k - 1) + 1  # a dilated kernel covers this many pixels
    if span > h + 2 * pad or span > w + 2 * pad:
        raise ShapeError(f"Conv2d kernel {span}×{span} is larger than its {h + 2 * pad}×{w + 2 * pad} input"
                         f"{' (with padding)' if pad else ''}")
    s = p["stride"]
    return Shape((p["out_channels"], (h + 2 * pad - span) // s + 1, (w + 2 * pad - span) // s + 1))


CONV2D = register(LayerSpec(
    type="Conv2d", trainable=True, category="Convolution", title="Conv2d",
    description=("Slides small learned filters over the image. Each filter detects one local "
                 "pattern (an edge, a texture) wherever it appears and makes one output channel. "
                 "The input channels come from the wire; you choose how many filters."),
    params=(
        Param("out_channels", "int", 32, "Number of filters = output channels", 1, 65536, label="Filters"),
        Param("kernel_size", "int", 3, "Filter size k (k×k pixels)", 1, 64, label="Kernel"),
        Param("stride", "int", 1, "Step between filter positions", 1, 64),
        Param("padding", "int", 0, "Zero pixels added around the border (k//2 keeps the size)", 0, 64),
        Param("bias", "bool", True, "Learn an offset per filter (off before BatchNorm)"),
        Param("groups", "int", 1, "Split channels into this many independent groups "
              "(= input channels: depthwise)", 1, 65536),
        Param("dilation", "int", 1, "Spacing between kernel taps (larger: wider view, same weights)", 1, 64),
    ),
    inputs=IN, outputs=OUT, infer=_conv_infer,
    ctor=lambda p, ins: Ctor("nn.Conv2d", dict(
        in_channels=ins[0][0], out_channels=p["out_channels"], kernel_size=p["kernel_size"],
        stride=p["stride"], padding=p["padding"], bias=p["bias"],
        **({"groups": p["groups"]} if p["groups"] != 1 else {}),
        **({"dilation": p["dilation"]} if p["dilation"] != 1 else {}))),
    summary=lambda p: f"{p['out_channels']} · {p['kernel_size']}×{p['kernel_size']}"
                      + (f" /{p['stride']}" if p["stride"] > 1 else "")
                      + (f" p{p['padding']}" if p["padding"] else "")
                      + (f" g{p['groups']}" if p["groups"] > 1 else "")
                      + (f" d{p['dilation']}" if p["dilation"] > 1 else ""),
    weights=lambda p, i, o: i[0][0] // p["groups"] * p["out_channels"] * p["kernel_size"] ** 2
                            + (p["out_channels"] if p["bias"] else 0),
    macs=lambda p, i, o: o.numel * i[0][0] // p["groups"] * p["kernel_size"] ** 2,
    icon="conv",
))

