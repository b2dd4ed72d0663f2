"""One layout for every graph Studio lays out itself (the canvas's Auto-layout, imported
models, the samples): cards on a grid of columns and rows.

- Columns by longest path, so every wire runs left to right (a loop drawn on the canvas
  keeps its wires in the order it is entered; the wire that closes it runs back).
- Rows: column by column, a card takes the row of its inputs (branches sorted by the mean
  row of their inputs, so wires of common nets do not cross) or the next free row below.
- A wire that skips columns (a residual's input straight to its Add, an Inception branch
  with fewer layers) runs as a straight line on a lane of its own: the cells it passes are
  kept free of cards, so the branch it jumps is stacked below it. Where no lane is free,
  its end goes to another row: a straight wire never passes behind a card it does not
  connect to.
- Long nets wrap like text into bands of about PER_ROW columns, top to bottom; a band breaks
  where one wire leads on, never across a skip if it can help it (a residual block stays in
  one band even when it is wider, and the other bands may then be as wide), so a fitted
  window shows readable cards. Separate nets get bands of their own, one below the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import networkx as nx

PER_ROW = 5         # columns a band aims for
COL = 260.0         # a card's width (160) and room for the shape label on its wire
ROW = 120.0
BAND_GAP = 80.0     # between one band's lowest card and the next band's highest
_OVER = 6           # cost of each column a band runs over PER_ROW, squared
_BREAK_SKIP = 300   # cost of a band break across a wire that skips columns
_BREAK_WIRE = 40    # ... across each extra wire beyond the one that leads on


@dataclass(frozen=True)
class Cell:
    band: int
    col: int   # within the band, from 0
    row: int   # within the band, from 0


def grid(nodes: Sequence[str], edges: Iterable[tuple[str, str]], per_row: int = PER_ROW) -> dict[str, Cell]:
    """Grid cells for `nodes` (ids in the preferred order: it breaks ties) and the wires
    `edges` (source id, target id) between them. Each connected net gets bands of its own,
    one below the other in the order of their first node; cards without wires come last,
    in rows of per_row."""
    nodes = list(dict.fromkeys(nodes))
    rank = {n: i for i, n in enumerate(nodes)}
    edges = [(u, v) for u, v in dict.fromkeys(edges) if u != v and u in rank and v in rank]
    links = nx.Graph()
    links.add_edges_from(edges)
    nets = sorted((sorted(c, key=rank.__getitem__) for c in nx.connected_components(links)),
                  key=lambda c: rank[c[0]])
    cells: dict[str, Cell] = {}
    band = 0
    for net in nets:
        inside = set(net)
        part = _net(net, [(u, v) for u, v in edges if u in inside], per_row)
        cells.update((n, Cell(band + c.band, c.col, c.row)) for n, c in part.items())
        band += 1 + max(c.band for c in part.values())
    alone = [n for n in nodes if n not in links]
    cells.update((n, Cell(band + i // per_row, i % per_row, 0)) for i, n in enumerate(alone))
    return cells


def _net(nodes: list[str], edges: list[tuple[str, str]], per_row: int) -> dict[str, Cell]:
    """Cells for one connected net."""
    rank = {n: i for i, n in enumerate(nodes)}
    order = _order(nodes, edges, rank)
    at = {n: i for i, n in enumerate(order)}
    forward = [(u, v) for u, v in edges if at[u] < at[v]]
    col = _columns(order, forward)
    start = _bands(col, forward, per_row)
    band_of = {c: b for b in range(len(start)) for c in range(start[b], start[b + 1] if b + 1 < len(start)
                                                                  else max(col.values()) + 1)}
    row = _rows(order, edges, forward, col, band_of)
    return {n: Cell(band_of[col[n]], col[n] - start[band_of[col[n]]], row[n]) for n in nodes}


def positions(nodes: Sequence[str], edges: Iterable[tuple[str, str]], origin: tuple[float, float] = (0.0, 0.0),
              dx: float = COL, dy: float = ROW, gap: float = BAND_GAP,
              per_row: int = PER_ROW) -> dict[str, tuple[float, float]]:
    """Top-left corners in scene pixels: the grid from `grid`, bands stacked from `origin` down."""
    cells = grid(nodes, edges, per_row)
    rows: dict[int, int] = {}
    for c in cells.values():
        rows[c.band] = max(rows.get(c.band, 0), c.row + 1)
    top, y = {}, origin[1]
    for b in sorted(rows):
        top[b] = y
        y += rows[b] * dy + gap
    return {n: (origin[0] + c.col * dx, top[c.band] + c.row * dy) for n, c in cells.items()}


def _order(nodes: list[str], edges: list[tuple[str, str]], rank: dict[str, int]) -> list[str]:
    """Topological where the graph allows, the preferred order breaking ties; a loop (its
    strongly connected part) is entered where a wire comes in and walked depth first."""
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    cond = nx.condensation(g)
    members = {c: cond.nodes[c]["members"] for c in cond}
    first = {c: min(rank[m] for m in members[c]) for c in cond}
    order: list[str] = []
    for c in nx.lexicographical_topological_sort(cond, key=first.__getitem__):
        inside = members[c]
        if len(inside) == 1:
            order += inside
            continue
        entry = min(inside, key=lambda m: (all(p in inside for p in g.predecessors(m)), rank[m]))
        seen, stack = [], [entry]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.append(n)
            stack += sorted((s for s in g.successors(n) if s in inside and s not in seen),
                            key=rank.__getitem__, reverse=True)
        order += seen
    return order


def _columns(order: list[str], forward: list[tuple[str, str]]) -> dict[str, int]:
    preds: dict[str, list[str]] = {n: [] for n in order}
    succs: dict[str, list[str]] = {n: [] for n in order}
    for u, v in forward:
        preds[v].append(u)
        succs[u].append(v)
    col: dict[str, int] = {}
    for n in order:
        col[n] = 1 + max((col[p] for p in preds[n]), default=-1)
    for n in order:  # a second input sits just before the layer it feeds, not far left
        if not preds[n] and succs[n]:
            col[n] = max(col[n], min(col[s] for s in succs[n]) - 1)
    return col


def _bands(col: dict[str, int], forward: list[tuple[str, str]], per_row: int) -> list[int]:
    """The first column of each band: the cheapest wrap (text-like, by dynamic programming)
    of bands near per_row wide, breaking where one wire leads on."""
    n = max(col.values()) + 1
    skips, wires = [0] * (n + 1), [0] * (n + 1)
    for u, v in forward:
        for b in range(col[u] + 1, col[v] + 1):  # the wire crosses the break before column b
            if col[v] - col[u] > 1:
                skips[b] += 1
            else:
                wires[b] += 1

    # A block no break should cut (columns joined by skip wires) wider than per_row sets the
    # window's zoom anyway: the other bands may then be as wide, and fewer.
    joined = longest = 1
    for b in range(1, n):
        joined = joined + 1 if skips[b] else 1
        longest = max(longest, joined)
    target = max(per_row, min(longest, 2 * per_row))

    def width_cost(w: int) -> int:
        return (target - w) ** 2 if w <= target else _OVER * (w - target) ** 2

    best = [0] + [None] * n
    prev = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):
            cost = best[i] + width_cost(j - i)
            if i:
                cost += _BREAK_SKIP * skips[i] + _BREAK_WIRE * max(wires[i] - 1, 0)
            if best[j] is None or cost <= best[j]:  # ties: the later break, so earlier bands are fuller
                best[j], prev[j] = cost, i
    starts, j = [], n
    while j:
        j = prev[j]
        starts.append(j)
    return starts[::-1]


def _rows(order: list[str], edges: list[tuple[str, str]], forward: list[tuple[str, str]],
          col: dict[str, int], band_of: dict[int, int]) -> dict[str, int]:
    at = {n: i for i, n in enumerate(order)}
    preds: dict[str, list[str]] = {n: [] for n in order}
    succs: dict[str, list[str]] = {n: [] for n in order}
    for u, v in forward:
        preds[v].append(u)
        succs[u].append(v)
    linked: dict[str, set[str]] = {n: set() for n in order}  # any wire, either way, loops included
    for u, v in edges:
        linked[u].add(v)
        linked[v].add(u)
    cards: dict[tuple[int, int], str] = {}  # (column, row) -> the card there
    lanes: dict[tuple[int, int], str] = {}  # cells kept free for a skip wire -> the card it ends at
    lane_row: dict[str, int] = {}
    row: dict[str, int] = {}

    def same_band(a: str, b: str) -> bool:
        return band_of[col[a]] == band_of[col[b]]

    def fits(n: str, c: int, r: int) -> bool:
        if (c, r) in cards or lanes.get((c, r), n) != n:
            return False
        for m in linked[n]:  # a straight wire to a placed card must not pass behind another
            if m in row and row[m] == r and same_band(n, m) and abs(col[m] - c) > 1:
                lo, hi = sorted((col[m], c))
                if any((x, r) in cards for x in range(lo + 1, hi)):
                    return False
        return True

    by_col: dict[int, list[str]] = {}
    for n in order:
        by_col.setdefault(col[n], []).append(n)
    for c in sorted(by_col):
        def key(n: str):
            near = [row[p] for p in preds[n] if same_band(p, n)]
            return (n not in lane_row, sum(near) / len(near) if near else 0.0, at[n])
        for n in sorted(by_col[c], key=key):
            near = [row[p] for p in preds[n] if same_band(p, n)]
            r = lane_row[n] if n in lane_row and fits(n, c, lane_row[n]) else min(near, default=0)
            while not fits(n, c, r):
                r += 1
            cards[(c, r)] = n
            row[n] = r
            for v in sorted(succs[n], key=lambda v: (col[v], at[v])):  # a lane for each skip that has room
                span = [(x, r) for x in range(c + 1, col[v] + 1)]
                if col[v] - c > 1 and same_band(n, v) and v not in lane_row \
                        and not any(cell in cards or cell in lanes for cell in span):
                    lanes.update((cell, v) for cell in span)
                    lane_row[v] = r
    return row
