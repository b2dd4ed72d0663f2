"""Normalization layers."""
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, register

IN, OUT = (Port("in"),), (Port("out"),)
from studio.graph.layers.conv import need_image

EPS = Param("eps", "float", 1e-5, "Added to the variance so it is never divided by zero", 1e-12, 1.0)


def _eps(p) -> dict:
    """eps only when it differs from torch's default, so generated code stays short."""
    return {"eps": p["eps"]} if p["eps"] != 1e-5 else {}


def _same_image(title: str):
    """Shape inference of a layer that takes an image and gives one of the same shape."""
    def infer(p, ins) -> Shape:
        (x,) = ins
        need_image(title, x)
        return x
    return infer


BATCHNORM2D = register(LayerSpec(
    type="BatchNorm2d", trainable=True, category="Normalization", title="BatchNorm2d",
    description=("Normalizes each channel over the batch, then rescales it with two learned "
                 "numbers. Keeps activations in a healthy range, which speeds up training and "
                 "eases vanishing gradients in deep networks."),
    params=(Param("momentum", "float", 0.1, "How fast the running statistics follow the batches", 0.0, 1.0),
            EPS),
    inputs=IN, outputs=OUT, infer=_same_image("BatchNorm2d"),
    ctor=lambda p, ins: Ctor("nn.BatchNorm2d", dict(num_features=ins[0][0], momentum=p["momentum"],
                                                    **_eps(p))),
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
    type="BatchNorm1d", trainable=True, category="Normalization", title="BatchNorm1d",
    description=("Normalizes each feature over the batch, for vectors and for the features of "
                 "a sequence. Helps deep fully-connected networks train."),
    params=(Param("momentum", "float", 0.1, "How fast the running statistics follow the batches", 0.0, 1.0),
            EPS),
    inputs=IN, outputs=OUT, infer=_bn1d_infer,
    ctor=lambda p, ins: (Ctor("studio.SeqBatchNorm1d", dict(num_features=ins[0][-1],
                                                            momentum=p["momentum"], **_eps(p))) if ins[0].seq
                         else Ctor("nn.BatchNorm1d", dict(num_features=ins[0][0], momentum=p["momentum"],
                                                          **_eps(p)))),
    weights=lambda p, i, o: 2 * i[0][-1], macs=lambda p, i, o: 2 * o.numel, icon="norm",
))


def _ln_infer(p, ins) -> Shape:
    (x,) = ins
    if x.dtype != "float":
        raise ShapeError("LayerNorm needs numbers, not token ids: add an Embedding first")
    return x


LAYERNORM = register(LayerSpec(
    type="LayerNorm", trainable=True, category="Normalization", title="LayerNorm",
    description=("Normalizes the last dimension of each example on its own, independent of the "
                 "batch. The usual choice for sequences and transformers."),
    params=(EPS,),
    inputs=IN, outputs=OUT, infer=_ln_infer,
    ctor=lambda p, ins: Ctor("nn.LayerNorm", dict(normalized_shape=ins[0][-1], **_eps(p))),
    summary=lambda p: "", weights=lambda p, i, o: 2 * i[0][-1], macs=lambda p, i, o: 2 * o.numel,
    icon="norm",
))


LAYERNORM2D = register(LayerSpec(
    type="LayerNorm2d", trainable=True, category="Normalization", title="LayerNorm2d",
    description=("Normalizes the channels at each pixel of an image on its own, independent of the "
                 "batch and of the other pixels: LayerNorm for convolutional networks, as ConvNeXt uses it."),
    params=(EPS,),
    inputs=IN, outputs=OUT, infer=_same_image("LayerNorm2d"),
    ctor=lambda p, ins: Ctor("studio.LayerNorm2d", dict(normalized_shape=ins[0][0], **_eps(p))),
    summary=lambda p: "", weights=lambda p, i, o: 2 * i[0][0], macs=lambda p, i, o: 2 * o.numel,
    icon="norm",
))

