"""Pooling layers."""
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, register

IN, OUT = (Port("in"),), (Port("out"),)
from studio.graph.layers.conv import need_image, window


def _pool(kind: str, blurb: str) -> LayerSpec:
    title = f"{kind}Pool2d"

    def infer(p, ins) -> Shape:
        (x,) = ins
        need_image(title, x)
        k = p["kernel_size"]
        s = p["stride"] or k
        oh, ow = window(title, x, k, s, p["padding"])
        if p["ceil_mode"]:  # torch's rule: one more window if it starts inside the padded input
            oh, ow = (_ceil_size(n, k, s, p["padding"]) for n in x.dims[1:])
        return Shape((x[0], oh, ow))

    return register(LayerSpec(
        type=title, category="Pooling", title=title, description=blurb,
        params=(
            Param("kernel_size", "int", 2, "Window size k (k×k pixels)", 1, 64, label="Kernel"),
            Param("stride", "int", 0, "Step between windows (0 = same as the kernel)", 0, 64),
            Param("padding", "int", 0, "Border added first (at most half the kernel)", 0, 32),
            Param("ceil_mode", "bool", False, "Keep a last, partial window at the border"),
        ),
        inputs=IN, outputs=OUT, infer=infer,
        ctor=lambda p, ins: Ctor(f"nn.{title}", dict(
            kernel_size=p["kernel_size"], stride=p["stride"] or p["kernel_size"], padding=p["padding"],
            **({"ceil_mode": True} if p["ceil_mode"] else {}))),
        summary=lambda p: f"{p['kernel_size']}×{p['kernel_size']}"
                          + (f" /{p['stride']}" if p["stride"] and p["stride"] != p["kernel_size"] else ""),
        macs=(lambda p, i, o: o.numel * p["kernel_size"] ** 2) if kind == "Avg" else (lambda p, i, o: 0),
        icon="pool",
    ))


MAXPOOL = _pool("Max", "Keeps the strongest response in each window, halving the size with the "
                       "default 2×2. Makes features tolerant to small shifts and cuts computation.")
AVGPOOL = _pool("Avg", "Averages each window, shrinking the image smoothly.")


def _ceil_size(n: int, k: int, s: int, pad: int) -> int:
    out = -(-(n + 2 * pad - k) // s) + 1
    if (out - 1) * s >= n + pad:
        out -= 1
    return out


def _adaptive_infer(p, ins) -> Shape:
    (x,) = ins
    need_image("AdaptiveAvgPool2d", x)
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
