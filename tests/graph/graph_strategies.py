"""Hypothesis helpers: random parameter values for any layer, and random graphs
grown one layer at a time from a random Input."""
from __future__ import annotations

from hypothesis import strategies as st

from studio.graph.layers import LAYERS
from studio.graph.model import GraphModel
from studio.graph.spec import Param

# Keep tensors tiny so a torch run per example stays in milliseconds.
CAPS = {"out_channels": 6, "kernel_size": 4, "stride": 3, "padding": 2, "output_size": 4, "hidden_size": 6,
        "num_layers": 2, "embedding_dim": 6, "out_features": 8, "channels": 3, "height": 9, "width": 9,
        "length": 6, "features": 6, "vocab": 20, "groups": 3, "dilation": 2}
# Opaque nodes come only from imports (tests/importer covers them).
INNER = sorted(t for t in LAYERS if t not in ("Input", "Output", "Add", "Concat", "Mul", "Opaque",
                                                 "BlockInput", "BlockOutput"))  # those live inside blocks


def param_value(p: Param):
    if p.kind in ("int", "size2"):
        lo = int(p.minimum if p.minimum is not None else 0)
        side = st.integers(lo, min(int(p.maximum or lo + 5), CAPS.get(p.name, lo + 5)))
        # a size2 is a square int or a (height, width) pair; check() stores a square pair as its int
        return side if p.kind == "int" else st.one_of(side, st.tuples(side, side).map(p.check))
    if p.kind == "float":
        return st.floats(p.minimum or 0.0, min(p.maximum if p.maximum is not None else 1.0, 0.9))
    if p.kind == "bool":
        return st.booleans()
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    if p.kind == "ints":
        lo = p.minimum if p.minimum is not None else -1
        hi = p.maximum if p.maximum is not None else 6
        return st.lists(st.sampled_from([v for v in (-1, 0, 1, 2, 3, 4, 6) if lo <= v <= hi]), min_size=1,
                        max_size=4)
    if p.kind == "text":  # an opaque node's reference: the default refers to nothing, safely
        return st.just(p.default)
    raise AssertionError(p.kind)


def params_for(draw, type_: str) -> dict:
    return {p.name: draw(param_value(p)) for p in LAYERS[type_].params}


def _float_nodes(m: GraphModel) -> list[str]:
    return [n for n in m.nodes() if m.shapes.out(n) is not None and m.type_of(n) != "Output"]


def grow_graph(draw, steps: int) -> GraphModel:
    """A random DAG whose every node has a known shape: layers that do not fit
    their input are removed again, so the result can run in torch."""
    m = GraphModel()
    m.add_node("Input", params_for(draw, "Input"))
    for _ in range(steps):
        live = _float_nodes(m)
        if len(live) >= 2 and draw(st.integers(0, 3)) == 0:
            srcs = draw(st.lists(st.sampled_from(live), min_size=2, max_size=3, unique=True))
            nid = m.add_node(draw(st.sampled_from(["Add", "Concat", "Mul"])))
            for s in srcs:
                m.connect(s, "out", nid, "in")
        else:
            src = draw(st.sampled_from(live))
            t = draw(st.sampled_from(INNER))
            nid = m.add_node(t, params_for(draw, t))
            m.connect(src, "out", nid, "in")
        if m.shapes.out(nid) is None:
            m.remove_node(nid)
    return m
