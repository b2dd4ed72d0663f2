"""Convolution, and the image checks that pooling and normalization share."""
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, hw, hw_text, register

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


SIZES = ("kernel_size", "stride", "padding", "dilation")  # each an int or a (height, width) pair


def _conv_infer(p, ins) -> Shape:
    (x,) = ins
    need_image("Conv2d", x)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (hw(p[n]) for n in SIZES)
    g = p["groups"]
    c, h, w = x
    if c % g or p["out_channels"] % g:
        raise ShapeError(f"Conv2d groups {g} must divide its {c} input channels and its "
                         f"{p['out_channels']} filters")
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # a dilated kernel covers this many pixels
    if span_h > h + 2 * ph or span_w > w + 2 * pw:
        raise ShapeError(f"Conv2d kernel {span_h}×{span_w} is larger than its {h + 2 * ph}×{w + 2 * pw} input"
                         f"{' (with padding)' if ph or pw else ''}")
    return Shape((p["out_channels"], (h + 2 * ph - span_h) // sh + 1, (w + 2 * pw - span_w) // sw + 1))


def _area(p) -> int:
    kh, kw = hw(p["kernel_size"])
    return kh * kw


def _conv_summary(p) -> str:
    kh, kw = hw(p["kernel_size"])
    return (f"{p['out_channels']} · {kh}×{kw}"
            + (f" /{hw_text(p['stride'])}" if p["stride"] != 1 else "")
            + (f" p{hw_text(p['padding'])}" if p["padding"] != 0 else "")
            + (f" g{p['groups']}" if p["groups"] > 1 else "")
            + (f" d{hw_text(p['dilation'])}" if p["dilation"] != 1 else ""))


CONV2D = register(LayerSpec(
    type="Conv2d", trainable=True, category="Convolution", title="Conv2d",
    description=("Slides small learned filters over the image. Each filter detects one local "
                 "pattern (an edge, a texture) wherever it appears and makes one output channel. "
                 "The input channels come from the wire; you choose how many filters."),
    params=(
        Param("out_channels", "int", 32, "Number of filters = output channels", 1, 65536, label="Filters"),
        Param("kernel_size", "size2", 3, "Filter size: k for k×k pixels, or height×width like 1×7",
              1, 64, label="Kernel"),
        Param("stride", "size2", 1, "Step between filter positions (or height×width steps)", 1, 64),
        Param("padding", "size2", 0, "Zero pixels added around the border (k//2 keeps the size)", 0, 64),
        Param("bias", "bool", True, "Learn an offset per filter (off before BatchNorm)"),
        Param("groups", "int", 1, "Split channels into this many independent groups "
              "(= input channels: depthwise)", 1, 65536),
        Param("dilation", "size2", 1, "Spacing between kernel taps (larger: wider view, same weights)", 1, 64),
    ),
    inputs=IN, outputs=OUT, infer=_conv_infer,
    # An int or an (h, w) tuple goes to nn.Conv2d as it is; the code exporter prints either literal.
    ctor=lambda p, ins: Ctor("nn.Conv2d", dict(
        in_channels=ins[0][0], out_channels=p["out_channels"], kernel_size=p["kernel_size"],
        stride=p["stride"], padding=p["padding"], bias=p["bias"],
        **({"groups": p["groups"]} if p["groups"] != 1 else {}),
        **({"dilation": p["dilation"]} if p["dilation"] != 1 else {}))),
    summary=_conv_summary,
    weights=lambda p, i, o: i[0][0] // p["groups"] * p["out_channels"] * _area(p)
                            + (p["out_channels"] if p["bias"] else 0),
    macs=lambda p, i, o: o.numel * i[0][0] // p["groups"] * _area(p),
    icon="conv",
))

