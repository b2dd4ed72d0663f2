"""Incremental shape inference: an edit recomputes only what is downstream of
it, and the table always equals a fresh inference, loops included."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.graph.graph_strategies import params_for
from studio.graph.builder import chain, sequential
from studio.graph.layers import LAYERS
from studio.graph.model import GraphError, GraphModel
from studio.graph.shapes import LOOP_MSG, ShapeTable, infer_fresh


@pytest.fixture
def computed(monkeypatch):
    """The node ids ShapeTable._compute is called for, in order."""
    calls: list[str] = []
    orig = ShapeTable._compute

    def counting(self, nid, *args, **kw):
        calls.append(nid)
        return orig(self, nid, *args, **kw)

    monkeypatch.setattr(ShapeTable, "_compute", counting)
    return calls


def mlp(n: int = 10):
    return sequential([("Linear", {"out_features": 8}) for _ in range(n)], {"kind": "vector", "features": 4})


def test_edit_recomputes_only_downstream(computed):
    m, ids = mlp()
    computed.clear()
    m.set_param(ids[5], "out_features", 9)  # changes ids[5]'s shape and ids[6]'s weights only
    assert computed == [ids[5], ids[6]]
    computed.clear()
    m.set_param(ids[5], "bias", False)  # weights change, output shape does not: nothing else
    assert computed == [ids[5]]
    computed.clear()
    m.set_param(ids[-2], "out_features", 3)
    assert set(computed) == {ids[-2], ids[-1]}


def test_shape_change_flows_to_the_end_but_not_upstream_or_sideways(computed):
    m = GraphModel()
    inp, a1, a2 = chain(m, [("Input", {"kind": "vector", "features": 4}), ("Linear", {"out_features": 8}), "ReLU"])
    b1, b2 = chain(m, [("Linear", {"out_features": 8}), "Tanh"], start=inp)
    cat = m.add_node("Concat")
    m.connect(a2, "out", cat, "in")
    m.connect(b2, "out", cat, "in")
    out = chain(m, ["Output"], start=cat)[0]
    computed.clear()
    m.set_param(a1, "out_features", 5)
    assert computed == [a1, a2, cat, out]
    assert m.shapes.out(cat).dims == (13,)
    computed.clear()
    m.move(b1, (5, 5))
    assert computed == []


def test_wire_against_the_cached_order_is_handled():
    m = GraphModel()
    late = m.add_node("ReLU")  # ranked before the Input it will be fed from
    inp = m.add_node("Input", {"kind": "vector", "features": 3})
    lin = m.add_node("Linear", {"out_features": 2})
    m.connect(lin, "out", late, "in")
    m.connect(inp, "out", lin, "in")
    assert m.shapes.out(late).dims == (2,)
    m.set_param(lin, "out_features", 4)
    assert m.shapes.out(late).dims == (4,)
    assert m.shapes.info == infer_fresh(m)


def test_loop_is_reported_on_every_member_and_freed_when_broken():
    m = GraphModel()
    inp, a, b, c = chain(m, [("Input", {"kind": "vector", "features": 3}), "ReLU", "Tanh", "Sigmoid"])
    back = m.connect(c, "out", a, "in")  # a takes two wires now, and a → b → c → a is a loop
    for n in (a, b, c):
        assert m.shapes.error(n) == LOOP_MSG
    assert m.shapes.info == infer_fresh(m)
    m.disconnect(back)
    assert [m.shapes.out(n).dims for n in (a, b, c)] == [(3,), (3,), (3,)]
    assert m.shapes.info == infer_fresh(m)


def test_loop_members_named_before_the_edit_root_are_marked():
    # The closing wire changes no shape (b_tanh has no shape before or after), so
    # the loop must be noticed from the wire itself, not from a shape change.
    m = GraphModel()
    m.add_node("Input", {"kind": "vector", "features": 3}, nid="inp")
    for n in ("a_relu", "b_tanh", "z_sig"):
        m.add_node({"a": "ReLU", "b": "Tanh", "z": "Sigmoid"}[n[0]], nid=n)
    m.connect("inp", "out", "a_relu", "in")
    m.connect("a_relu", "out", "z_sig", "in")
    m.connect("b_tanh", "out", "a_relu", "in")
    m.connect("z_sig", "out", "b_tanh", "in")  # closes a → z → b → a; root is b_tanh
    assert {n for n in m.nodes() if m.shapes.error(n) == LOOP_MSG} == {"a_relu", "b_tanh", "z_sig"}


TYPES = sorted(LAYERS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_incremental_table_equals_fresh_after_random_edits(data):
    m = GraphModel()
    m.add_node("Input", {"kind": data.draw(st.sampled_from(["image", "sequence", "vector", "tokens"]))})
    for _ in range(data.draw(st.integers(1, 25))):
        nodes = m.nodes()
        op = data.draw(st.sampled_from(["add", "add", "connect", "connect", "disconnect", "remove", "param"]))
        try:
            if op == "add":
                t = data.draw(st.sampled_from(TYPES))
                m.add_node(t, params_for(data.draw, t))
            elif op == "connect" and nodes:
                srcs = [n for n in nodes if LAYERS[m.type_of(n)].outputs]
                dsts = [n for n in nodes if LAYERS[m.type_of(n)].inputs]
                if srcs and dsts:
                    m.connect(data.draw(st.sampled_from(srcs)), "out", data.draw(st.sampled_from(dsts)), "in")
            elif op == "disconnect" and m.edges():
                m.disconnect(data.draw(st.sampled_from([e.id for e in m.edges()])))
            elif op == "remove" and nodes:
                m.remove_node(data.draw(st.sampled_from(nodes)))
            elif op == "param" and nodes:
                nid = data.draw(st.sampled_from(nodes))
                ps = LAYERS[m.type_of(nid)].params
                if ps:
                    p = data.draw(st.sampled_from(ps))
                    m.set_param(nid, p.name, data.draw(params_strategy(p)))
        except GraphError:
            pass  # e.g. the same wire twice, a layer fed by itself
        assert m.shapes.info == infer_fresh(m), op


def params_strategy(p):
    from tests.graph.graph_strategies import param_value
    return param_value(p)
