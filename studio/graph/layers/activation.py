"""Activations."""
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, register

IN, OUT = (Port("in"),), (Port("out"),)


def need_float(title: str, x: Shape) -> Shape:
    if x.dtype != "float":
        raise ShapeError(f"{title} needs numbers, not token ids: add an Embedding first")
    return x


def _activation(type_: str, blurb: str, ctor: str, params=(), kwargs=lambda p, ins: {}, summary=None):
    return register(LayerSpec(
        type=type_, category="Activation", title=type_, description=blurb, params=params,
        inputs=IN, outputs=OUT, infer=lambda p, ins: need_float(type_, ins[0]),
        ctor=lambda p, ins: Ctor(ctor, kwargs(p, ins)),
        summary=summary or (lambda p: ""), icon="act",
    ))


RELU = _activation("ReLU", "max(0, x). The default activation: cheap, and its gradient does not "
                   "vanish for positive inputs, which lets deep networks learn.", "nn.ReLU")
LEAKY = _activation("LeakyReLU", "Like ReLU, but lets a small slope through for negative inputs, "
                    "so units never go completely silent.", "nn.LeakyReLU",
                    params=(Param("negative_slope", "float", 0.01, "Slope for x < 0", 0.0, 1.0),),
                    kwargs=lambda p, ins: dict(negative_slope=p["negative_slope"]),
                    summary=lambda p: f"α {p['negative_slope']:g}")
SIGMOID = _activation("Sigmoid", "Squashes to (0, 1). Its gradient is at most 0.25, so stacks of "
                      "sigmoids suffer vanishing gradients: compare a deep sigmoid MLP with ReLU.",
                      "nn.Sigmoid")
TANH = _activation("Tanh", "Squashes to (−1, 1), centred on zero. Used inside RNNs.", "nn.Tanh")
GELU = _activation("GELU", "A smooth ReLU used by transformers.", "nn.GELU")
SOFTMAX = _activation(
    "Softmax", "Turns scores into probabilities that sum to 1. Not needed before a cross-entropy "
    "Output, which applies it itself.", "nn.Softmax",
    kwargs=lambda p, ins: dict(dim=1 if len(ins[0]) == 3 else -1))
