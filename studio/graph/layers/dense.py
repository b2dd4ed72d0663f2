"""Dropout, and the dense and shape layers."""
from studio.graph.spec import Ctor, LayerSpec, Param, Port, Shape, ShapeError, fmt, register

IN, OUT = (Port("in"),), (Port("out"),)
from studio.graph.layers.activation import need_float


def _dropout_infer(p, ins) -> Shape:
    return need_float("Dropout", ins[0])


DROPOUT = register(LayerSpec(
    type="Dropout", category="Normalization", title="Dropout",
    description=("During training, zeroes a random fraction of values so the network cannot rely "
                 "on any single unit. A cure for overfitting; it does nothing at evaluation."),
    params=(Param("p", "float", 0.5, "Fraction of values dropped while training", 0.0, 0.99, label="Rate"),),
    inputs=IN, outputs=OUT, infer=_dropout_infer,
    ctor=lambda p, ins: Ctor("nn.Dropout", dict(p=p["p"])), summary=lambda p: f"{p['p']:g}",
    icon="norm",
))


def _flatten_infer(p, ins) -> Shape:
    (x,) = ins
    return Shape((need_float("Flatten", x).numel,))


FLATTEN = register(LayerSpec(
    type="Flatten", category="Dense & Shape", title="Flatten",
    description="Lays all values of each example out in one long vector, e.g. 64×4×4 → 1024, "
                "so that a Linear layer can follow a convolution.",
    params=(), inputs=IN, outputs=OUT, infer=_flatten_infer,
    ctor=lambda p, ins: Ctor("nn.Flatten", {}), icon="shape",
))


def _linear_infer(p, ins) -> Shape:
    (x,) = ins
    need_float("Linear", x)
    if p["per_position"] or x.seq or len(x) == 1:
        return Shape(x.dims[:-1] + (p["out_features"],), seq=x.seq)
    # An image into a Linear is usually a forgotten Flatten; applying it at every position
    # (the last dimension, as after a Permute to H×W×C) is a choice the user makes.
    raise ShapeError(f"Linear needs a flat vector, got {x.full()}. Insert a Flatten before it.",
                     insert="Flatten")


LINEAR = register(LayerSpec(
    type="Linear", trainable=True, category="Dense & Shape", title="Linear",
    description=("A fully connected (dense) layer: every output is a learned weighted sum of all "
                 "inputs plus a bias. The input size comes from the wire; you choose the output "
                 "size. On a sequence it applies to every step; with Per position, to the last "
                 "dimension at every position of any input."),
    params=(
        Param("out_features", "int", 64, "Number of outputs (units)", 1, 1000000, label="Units"),
        Param("bias", "bool", True, "Learn an offset per output"),
        Param("per_position", "bool", False,
              "Apply to the last dimension at every position (H×W×C after a Permute)"),
    ),
    inputs=IN, outputs=OUT, infer=_linear_infer,
    ctor=lambda p, ins: Ctor("nn.Linear", dict(in_features=ins[0][-1], out_features=p["out_features"],
                                               bias=p["bias"])),
    summary=lambda p: f"{p['out_features']}" + (" per position" if p["per_position"] else ""),
    weights=lambda p, i, o: i[0][-1] * p["out_features"] + (p["out_features"] if p["bias"] else 0),
    macs=lambda p, i, o: o.numel * i[0][-1], icon="dense",
))


def _reshape_infer(p, ins) -> Shape:
    (x,) = ins
    need_float("Reshape", x)
    dims = list(p["shape"])
    if dims.count(-1) > 1:
        raise ShapeError("Reshape can infer at most one size (-1)")
    if any(d == 0 or d < -1 for d in dims):
        raise ShapeError("Reshape sizes must be positive, or -1 for one inferred size")
    known = 1
    for d in dims:
        if d != -1:
            known *= d
    if -1 in dims:
        if x.numel % known:
            raise ShapeError(f"Reshape cannot fit {x.numel} values ({x.full()}) into {fmt(dims)}")
        dims[dims.index(-1)] = x.numel // known
    elif known != x.numel:
        raise ShapeError(f"Reshape to {fmt(dims)} needs {known} values, but {x.full()} has {x.numel}")
    if p["sequence"] and len(dims) != 2:
        raise ShapeError("A sequence reshape needs exactly two sizes: T and F")
    return Shape(tuple(dims), seq=p["sequence"])


RESHAPE = register(LayerSpec(
    type="Reshape", category="Dense & Shape", title="Reshape",
    description=("Rearranges the values of each example into a new shape with the same count, "
                 "e.g. 784 → 1×28×28. One size may be -1 to let Studio work it out."),
    params=(
        Param("shape", "ints", (-1,), "New sizes, batch excluded; -1 once to infer", -1, 100000000),
        Param("sequence", "bool", False, "Treat the first size as time steps (T×F)"),
    ),
    inputs=IN, outputs=OUT, infer=_reshape_infer,
    ctor=lambda p, ins: Ctor("studio.Reshape", dict(shape=_reshape_infer(p, ins).dims)),
    summary=lambda p: "→ " + fmt(p["shape"]), icon="shape",
))


def _rows_infer(p, ins) -> Shape:
    (x,) = ins
    if len(x) != 3 or x.seq:
        raise ShapeError(f"Image rows needs an image C×H×W, got {x.full()}")
    c, h, w = x
    return Shape((h, c * w), seq=True)


ROWS = register(LayerSpec(
    type="ImageRows", category="Recurrent", title="Image rows",
    description=("Reads an image row by row as a sequence: H steps of C·W features each, so an "
                 "RNN, LSTM or GRU can classify images."),
    params=(), inputs=IN, outputs=OUT, infer=_rows_infer,
    ctor=lambda p, ins: Ctor("studio.ImageRows", {}), icon="rnn",
))
