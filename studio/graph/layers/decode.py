"""The layers decoders use to grow an image back: transposed convolution and upsampling."""
from studio.graph.layers.conv import need_image
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, register

IN, OUT = (Port("in"),), (Port("out"),)


def _tconv_infer(p, ins) -> Shape:
    (x,) = ins
    need_image("ConvTranspose2d", x)
    k, s, pad, extra = p["kernel_size"], p["stride"], p["padding"], p["output_padding"]
    if extra >= s:
        raise ShapeError(f"ConvTranspose2d output padding {extra} must be smaller than its stride {s}")
    if pad * 2 > k:
        raise ShapeError(f"ConvTranspose2d padding {pad} is more than half its kernel {k}")
    _, h, w = x
    return Shape((p["out_channels"], (h - 1) * s - 2 * pad + k + extra, (w - 1) * s - 2 * pad + k + extra))


CONVTRANSPOSE2D = register(LayerSpec(
    type="ConvTranspose2d", trainable=True, category="Convolution", title="ConvTranspose2d",
    description=("A convolution run backwards: each input pixel paints a learned k×k patch into a "
                 "larger output. With kernel 2 and stride 2 it doubles the height and width, the "
                 "usual way a decoder grows an image back from a small code."),
    params=(
        Param("out_channels", "int", 16, "Number of filters = output channels", 1, 65536, label="Filters"),
        Param("kernel_size", "int", 2, "Patch size k (k×k pixels)", 1, 64, label="Kernel"),
        Param("stride", "int", 2, "Output step per input pixel (2 doubles the size)", 1, 64),
        Param("padding", "int", 0, "Pixels trimmed from each border of the output", 0, 64),
        Param("output_padding", "int", 0, "Extra pixels added on one side (below the stride)", 0, 63),
        Param("bias", "bool", True, "Learn an offset per filter"),
    ),
    inputs=IN, outputs=OUT, infer=_tconv_infer,
    ctor=lambda p, ins: Ctor("nn.ConvTranspose2d", dict(
        in_channels=ins[0][0], out_channels=p["out_channels"], kernel_size=p["kernel_size"],
        stride=p["stride"], padding=p["padding"], output_padding=p["output_padding"], bias=p["bias"])),
    summary=lambda p: f"{p['out_channels']} · {p['kernel_size']}×{p['kernel_size']}"
                      + (f" ×{p['stride']}" if p["stride"] > 1 else ""),
    weights=lambda p, i, o: i[0][0] * p["out_channels"] * p["kernel_size"] ** 2
                            + (p["out_channels"] if p["bias"] else 0),
    macs=lambda p, i, o: i[0].numel * p["out_channels"] * p["kernel_size"] ** 2,
    icon="conv",
))


def _upsample_infer(p, ins) -> Shape:
    (x,) = ins
    need_image("Upsample", x)
    c, h, w = x
    f = p["scale_factor"]
    return Shape((c, h * f, w * f))


UPSAMPLE = register(LayerSpec(
    type="Upsample", category="Pooling", title="Upsample",
    description=("Makes the image larger by a whole factor, repeating pixels (nearest) or blending "
                 "them (bilinear). Nothing is learned; follow it with a Conv2d to refine."),
    params=(
        Param("scale_factor", "int", 2, "How many times larger", 1, 64, label="Factor"),
        Param("mode", "choice", "nearest", "How new pixels are filled", choices=("nearest", "bilinear")),
    ),
    inputs=IN, outputs=OUT, infer=_upsample_infer,
    ctor=lambda p, ins: Ctor("nn.Upsample", dict(scale_factor=p["scale_factor"], mode=p["mode"])),
    summary=lambda p: f"×{p['scale_factor']} {p['mode']}",
    macs=lambda p, i, o: o.numel if p["mode"] == "bilinear" else 0,
    icon="pool",
))
