"""studio.graph.layout: no two cards on one spot, no straight wire behind a card it does
not connect to (random graphs, loops included), and the shapes of common nets."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from studio.graph.layout import BAND_GAP, COL, PER_ROW, ROW, Cell, grid, positions


@st.composite
def graphs(draw, loops: bool = False):
    """Ids in a random preferred order; wires forward in a hidden order (a DAG), or any way."""
    n = draw(st.integers(1, 24))
    nodes = [f"n{i}" for i in draw(st.permutations(range(n)))]
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    edges = [(f"n{min(a, b)}", f"n{max(a, b)}") if not loops else (f"n{a}", f"n{b}")
             for a, b in draw(st.lists(pairs, max_size=3 * n)) if a != b]
    return nodes, edges


def hidden_wires(nodes, edges, pos) -> list:
    """Wires whose two ends sit on one row with another card's corner between them."""
    bad = []
    for u, v in edges:
        (xu, yu), (xv, yv) = pos[u], pos[v]
        if yu == yv:
            lo, hi = sorted((xu, xv))
            bad += [(u, v, w) for w in nodes if w not in (u, v) and pos[w][1] == yu and lo < pos[w][0] < hi]
    return bad


def check(nodes, edges) -> dict:
    pos = positions(nodes, edges)
    assert set(pos) == set(nodes)
    assert len(set(pos.values())) == len(nodes), "two cards on one spot"
    assert not hidden_wires(nodes, edges, pos)
    return pos


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_random_dags_never_stack_cards_or_hide_wires(g):
    nodes, edges = g
    check(nodes, edges)
    cells = grid(nodes, edges)
    for u, v in edges:  # every wire runs left to right, or wraps into a later band
        assert (cells[u].band, cells[u].col) < (cells[v].band, cells[v].col)


@settings(max_examples=200, deadline=None)
@given(graphs(loops=True))
def test_graphs_with_loops_are_laid_out_too(g):
    check(*g)


def rows_of(cells: dict[str, Cell]) -> dict[str, tuple[int, int]]:
    return {n: (c.row, c.col) for n, c in cells.items()}


def test_residual_block_skip_runs_on_a_free_lane_above_the_branch():
    nodes = ["input", "conv", "relu", "conv2", "add", "output"]
    edges = [("input", "conv"), ("conv", "relu"), ("relu", "conv2"), ("conv2", "add"), ("input", "add"),
             ("add", "output")]
    cells = rows_of(grid(nodes, edges))
    assert cells == {"input": (0, 0), "conv": (1, 1), "relu": (1, 2), "conv2": (1, 3), "add": (0, 4),
                     "output": (0, 5)}
    check(nodes, edges)


def test_residual_with_a_downsample_path_keeps_the_shortcut_straight():
    nodes = ["in", "c1", "b1", "r", "c2", "b2", "d0", "d1", "add", "relu", "out"]
    edges = [("in", "c1"), ("c1", "b1"), ("b1", "r"), ("r", "c2"), ("c2", "b2"), ("in", "d0"), ("d0", "d1"),
             ("b2", "add"), ("d1", "add"), ("add", "relu"), ("relu", "out")]
    cells = grid(nodes, edges)
    assert cells["d1"].row == cells["add"].row != cells["b2"].row  # d1 -> add: straight, nothing between
    assert cells["d1"].band == cells["add"].band  # the block is not split across a band break
    check(nodes, edges)


def test_inception_branches_stack_in_order_and_the_short_one_runs_straight():
    branches = [["b1"], ["b2a", "b2b"], ["b3a", "b3b"], ["b4a", "b4b"]]
    nodes = ["in"] + [n for b in branches for n in b] + ["cat", "out"]
    edges = [("in", b[0]) for b in branches] + [(a, b) for br in branches for a, b in zip(br, br[1:])] + \
        [(b[-1], "cat") for b in branches] + [("cat", "out")]
    cells = rows_of(grid(nodes, edges))
    assert cells["in"] == cells["b1"][:1] + (0,) and cells["cat"][0] == cells["b1"][0] == 0  # b1 -> cat straight
    assert [cells[b[-1]][0] for b in branches[1:]] == [1, 2, 3]  # in their order: no wires cross
    assert cells["out"] == (0, 4)
    check(nodes, edges)


def test_long_chain_wraps_into_bands_of_five_in_reading_order():
    nodes = [f"n{i}" for i in range(14)]
    edges = list(zip(nodes, nodes[1:]))
    cells = grid(nodes, edges)
    assert [cells[n].band for n in nodes] == [0] * 5 + [1] * 5 + [2] * 4
    assert all(c.row == 0 and c.col < PER_ROW for c in cells.values())
    pos = check(nodes, edges)
    assert pos["n5"] == (0.0, ROW + BAND_GAP) and pos["n4"] == (4 * COL, 0.0)
    assert list(pos.values()) == sorted(pos.values(), key=lambda p: (p[1], p[0]))


def test_a_loop_is_laid_out_in_the_order_it_is_entered():
    nodes = ["in", "a", "b", "c", "out"]
    edges = [("in", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("c", "out")]
    cells = grid(nodes, edges)
    assert [cells[n].col for n in ("in", "a", "b", "c", "out")] == [0, 1, 2, 3, 4]
    check(nodes, edges)  # c -> a runs back: c leaves row 0 rather than draw it behind b
    assert cells["c"].row != cells["a"].row


def test_a_second_input_sits_next_to_the_layer_it_feeds_and_origin_offsets():
    nodes = ["x", "a", "b", "c", "y", "cat"]
    edges = [("x", "a"), ("a", "b"), ("b", "c"), ("c", "cat"), ("y", "cat")]
    cells = grid(nodes, edges)
    assert cells["y"].col == cells["c"].col and cells["y"].row == 1
    pos = positions(nodes, edges, origin=(40.0, -20.0))
    assert pos["x"] == (40.0, -20.0)
    assert positions([], []) == {} and grid(["only"], []) == {"only": Cell(0, 0, 0)}


def test_separate_nets_get_bands_of_their_own_and_stray_cards_come_last():
    nodes = ["s1", "a", "b", "c", "x", "y", "s2"]
    edges = [("a", "b"), ("b", "c"), ("x", "y")]
    cells = grid(nodes, edges)
    assert [cells[n] for n in ("a", "b", "c")] == [Cell(0, 0, 0), Cell(0, 1, 0), Cell(0, 2, 0)]
    assert [cells[n] for n in ("x", "y")] == [Cell(1, 0, 0), Cell(1, 1, 0)]
    assert [cells[n] for n in ("s1", "s2")] == [Cell(2, 0, 0), Cell(2, 1, 0)]
    check(nodes, edges)
