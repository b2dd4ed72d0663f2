"""Property: for random valid graphs, inferred shapes are the shapes torch
produces, and inferred weight counts are the built modules' parameter counts."""
from __future__ import annotations

import networkx as nx
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.graph.graph_strategies import grow_graph
from studio.graph.compile import input_args, node_module
from studio.graph.shapes import infer_fresh


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1, 7))
def test_inferred_shapes_equal_torch_shapes(data, steps):
    m = grow_graph(data.draw, steps)
    assert m.shapes.info == infer_fresh(m)
    env: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for nid in nx.topological_sort(m.g):
            info = m.shapes.info[nid]
            shape = info.out
            if m.type_of(nid) == "Input":
                env[nid] = (torch.randint(0, shape.vocab, (2, *shape.dims)) if shape.dtype == "long"
                            else torch.randn(2, *shape.dims))
                continue
            mod = node_module(m, nid).eval()
            assert info.weights == sum(p.numel() for p in mod.parameters()), nid
            y = mod(*[env[s] for s in input_args(m, nid)])
            assert tuple(y.shape) == (2, *shape.dims), (nid, m.type_of(nid), m.params(nid), info.inputs)
            assert (y.dtype == torch.long) == (shape.dtype == "long"), nid
            env[nid] = y
