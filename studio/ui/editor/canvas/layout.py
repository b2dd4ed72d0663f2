"""Auto-layout (Ctrl+L): studio.graph.layout's grid, anchored at the top-left of the cards
as they are and snapped to the canvas grid; the view applies it as one undoable move."""
from __future__ import annotations

from studio.graph.layout import positions
from studio.graph.model import GraphModel

SNAP = 20


def auto_layout(model: GraphModel) -> dict[str, tuple[float, float]]:
    nodes = model.nodes()
    if not nodes:
        return {}
    # Cards in reading order as they are, so a net laid out by hand keeps its branches' order.
    nodes.sort(key=lambda n: (model.pos(n)[1], model.pos(n)[0]))
    x0 = round(min(model.pos(n)[0] for n in nodes) / SNAP) * SNAP
    y0 = round(min(model.pos(n)[1] for n in nodes) / SNAP) * SNAP
    pos = positions(nodes, [(e.src, e.dst) for e in model.edges()], origin=(x0, y0))
    return {n: (float(round(x / SNAP) * SNAP), float(round(y / SNAP) * SNAP)) for n, (x, y) in pos.items()}
