"""Shape inference speed on a 500-node graph: build + infer from scratch, then
the median cost of one parameter edit's incremental re-inference near the top
and near the bottom of the graph. Target: one edit < 20 ms.

    python bench/shape_inference.py [--nodes 500] [--edits 50]
"""
from __future__ import annotations

import argparse
import statistics
import time

from studio.graph.model import GraphModel
from studio.graph.shapes import infer_fresh


def build(n_nodes: int) -> tuple[GraphModel, list[str]]:
    """A long vector MLP: Linear/ReLU chains, every few layers a residual Add or a
    Concat+Linear branch, so edits have to flow through merges."""
    m = GraphModel()
    width = 64
    prev = m.add_node("Input", {"kind": "vector", "features": width})
    linears: list[str] = []
    i = 0
    while len(m) < n_nodes - 6:
        block_in = prev
        a = m.add_node("Linear", {"out_features": width})
        m.connect(prev, "out", a, "in")
        b = m.add_node("ReLU")
        m.connect(a, "out", b, "in")
        linears.append(a)
        if i % 3 == 0:
            add = m.add_node("Add")
            m.connect(b, "out", add, "in")
            m.connect(block_in, "out", add, "in")
            prev = add
        elif i % 3 == 1:
            cat = m.add_node("Concat")
            m.connect(b, "out", cat, "in")
            m.connect(block_in, "out", cat, "in")
            back = m.add_node("Linear", {"out_features": width})
            m.connect(cat, "out", back, "in")
            linears.append(back)
            prev = back
        else:
            prev = b
        i += 1
    head = m.add_node("Linear", {"out_features": 10})
    m.connect(prev, "out", head, "in")
    out = m.add_node("Output")
    m.connect(head, "out", out, "in")
    return m, linears


def edit_times(m: GraphModel, nid: str, param: str, values: list, edits: int) -> list[float]:
    times = []
    for k in range(edits):
        t0 = time.perf_counter()
        m.set_param(nid, param, values[k % len(values)])
        times.append(time.perf_counter() - t0)
    return times


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=500)
    ap.add_argument("--edits", type=int, default=50)
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    m, linears = build(a.nodes)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    fresh = infer_fresh(m)
    t_fresh = time.perf_counter() - t0
    assert fresh == m.shapes.info, "incremental table differs from a fresh inference"
    edges = len(m.edges())
    print(f"graph: {len(m)} nodes, {edges} wires")
    print(f"build + incremental infer from scratch: {t_build * 1e3:8.1f} ms")
    print(f"full re-inference (infer_fresh):       {t_fresh * 1e3:8.1f} ms")

    # The first Linear's width flows through every later Add/Concat: the worst case.
    top = edit_times(m, linears[0], "out_features", [64, 65], a.edits)
    # Changing the first Linear's width is caught by the next Add, whose shapes
    # must match; so also time a top edit that changes nothing downstream.
    flat = edit_times(m, linears[0], "bias", [False, True], a.edits)
    bottom = edit_times(m, linears[-1], "out_features", [64, 65], a.edits)
    assert infer_fresh(m) == m.shapes.info
    for name, ts in (("top (shape change flows down)", top), ("top (bias only, no shape change)", flat),
                     ("bottom", bottom)):
        print(f"one edit, {name:<34} median {statistics.median(ts) * 1e3:7.2f} ms  "
              f"max {max(ts) * 1e3:7.2f} ms")


if __name__ == "__main__":
    main()
