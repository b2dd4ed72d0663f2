"""Auto-layout: columns left to right by topological generation, each column
ordered by the mean height of its inputs (one barycentre pass keeps wires from
crossing in common nets). Long nets wrap, like text, into bands of PER_ROW
columns stacked top to bottom (as the samples are laid out), so a 14-layer
chain stays readable in a window after Fit instead of one row of tiny cards."""
from __future__ import annotations

import networkx as nx

from studio.graph.model import GraphModel

COL = 260.0  # card width + room for a wire label
ROW = 90.0
PER_ROW = 5        # columns per band
BAND_GAP = 80.0    # between one band's lowest card and the next band's highest


def generations(model: GraphModel) -> list[list[str]]:
    g = model.g
    try:
        return [sorted(gen) for gen in nx.topological_generations(g)]
    except nx.NetworkXUnfeasible:  # loops: lay out the condensation instead
        cond = nx.condensation(g)
        return [sorted(n for c in gen for n in cond.nodes[c]["members"])
                for gen in nx.topological_generations(cond)]


def auto_layout(model: GraphModel) -> dict[str, tuple[float, float]]:
    if not len(model):
        return {}
    xs = [model.pos(n)[0] for n in model.nodes()]
    ys = [model.pos(n)[1] for n in model.nodes()]
    x0, y0 = min(xs), min(ys)
    gens = generations(model)
    pos: dict[str, tuple[float, float]] = {}
    band_top = y0
    for start in range(0, len(gens), PER_ROW):
        band = gens[start:start + PER_ROW]
        tallest = max(len(g) for g in band)
        ymid = band_top + (tallest - 1) * ROW / 2
        for col, gen in enumerate(band):
            def key(n):
                preds = [pos[p][1] for p in model.g.predecessors(n) if p in pos]
                return (sum(preds) / len(preds) if preds else model.pos(n)[1], n)
            gen = sorted(gen, key=key)
            top = ymid - (len(gen) - 1) * ROW / 2
            for i, n in enumerate(gen):
                pos[n] = (round((x0 + col * COL) / 20) * 20, round((top + i * ROW) / 20) * 20)
        band_top += tallest * ROW + BAND_GAP  # 170 px for a chain, as in the samples
    return pos
