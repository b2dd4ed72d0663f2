"""Layers that merge several wires: Add (residual connections) and Concat."""
from studio.graph.spec import Ctor, LayerSpec, Port, Shape, ShapeError, register

MULTI, OUT = (Port("in", multi=True),), (Port("out"),)


def _add_infer(p, ins) -> Shape:
    if len(ins) < 2:
        raise ShapeError("Add needs at least two input wires")
    first = ins[0]
    if any(x.dtype != "float" for x in ins):
        raise ShapeError("Add needs numbers, not token ids: add an Embedding first")
    for other in ins[1:]:
        if other.dims != first.dims or other.seq != first.seq:
            raise ShapeError(f"Add needs equal shapes, got {first.full()} and {other.full()}")
    return first


ADD = register(LayerSpec(
    type="Add", category="Merge", title="Add",
    description=("Adds its inputs element by element. With a wire that skips a few layers this "
                 "makes a residual connection, which lets very deep networks train."),
    params=(), inputs=MULTI, outputs=OUT, infer=_add_infer,
    ctor=lambda p, ins: Ctor("studio.Add", {}),
    macs=lambda p, i, o: o.numel * (len(i) - 1), icon="merge",
))


def _concat_infer(p, ins) -> Shape:
    if len(ins) < 2:
        raise ShapeError("Concat needs at least two input wires")
    first = ins[0]
    axis = 0 if len(first) == 3 else len(first) - 1  # channels of images, else features
    total = 0
    for other in ins:
        if len(other) != len(first) or other.seq != first.seq or other.dtype != first.dtype:
            raise ShapeError(f"Concat needs inputs of the same kind, got {first.full()} and {other.full()}")
        rest_a = first.dims[:axis] + first.dims[axis + 1:]
        rest_b = other.dims[:axis] + other.dims[axis + 1:]
        if rest_a != rest_b:
            what = "height and width" if len(first) == 3 else "length"
            raise ShapeError(f"Concat needs equal {what}, got {first.full()} and {other.full()}")
        total += other[axis]
    dims = list(first.dims)
    dims[axis] = total
    # Joined token sequences stay token ids, below the largest vocabulary.
    return Shape(tuple(dims), seq=first.seq, dtype=first.dtype, vocab=max(x.vocab for x in ins))


CONCAT = register(LayerSpec(
    type="Concat", category="Merge", title="Concat",
    description=("Joins its inputs side by side: image channels are stacked, vectors and sequence "
                 "features are appended. Other sizes must match."),
    params=(), inputs=MULTI, outputs=OUT, infer=_concat_infer,
    ctor=lambda p, ins: Ctor("studio.Concat", dict(dim=1 if len(ins[0]) == 3 else -1)),
    icon="merge",
))
