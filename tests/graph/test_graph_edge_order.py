"""Wire order into a merge port survives removal and re-adding (undo)."""
from studio.graph.model import GraphModel


def _concat_graph():
    m = GraphModel()
    i = m.add_node("Input", {"kind": "vector", "features": 4})
    a = m.add_node("Linear", {"out_features": 2})
    b = m.add_node("Linear", {"out_features": 3})
    c = m.add_node("Concat")
    m.connect(i, "out", a, "in")
    m.connect(i, "out", b, "in")
    ea = m.connect(a, "out", c, "in")
    eb = m.connect(b, "out", c, "in")
    return m, a, b, c, ea, eb


def test_reconnecting_an_edge_id_restores_its_place():
    m, a, b, c, ea, eb = _concat_graph()
    assert [e.src for e in m.in_edges(c)] == [a, b]
    m.disconnect(ea)
    assert [e.src for e in m.in_edges(c)] == [b]
    m.connect(a, "out", c, "in", eid=ea)  # what undo does
    assert [e.src for e in m.in_edges(c)] == [a, b]


def test_removed_node_restored_keeps_concat_order():
    m, a, b, c, ea, eb = _concat_graph()
    before = m.snapshot()
    params = dict(m.params(a))
    edges = m.in_edges(a) + m.out_edges(a)
    m.remove_node(a)
    m.add_node("Linear", params, nid=a)
    for e in edges:
        m.connect(e.src, e.src_port, e.dst, e.dst_port, eid=e.id)
    assert [e.src for e in m.in_edges(c)] == [a, b]
    assert m.snapshot() == before
