"""The compiled module is a torch.fx.GraphModule named after the node ids, and
exports with torch.jit (trace and script) and torch.export."""
from __future__ import annotations

import warnings

import pytest
import torch
from torch import fx

from studio.graph.builder import sequential
from studio.graph.compile import CompileError, compile_graph, example_inputs

from tests.graph.test_seed_cnn import SEED


@pytest.fixture(scope="module")
def seed():
    torch.manual_seed(0)
    m, ids = sequential(SEED)
    return m, ids, compile_graph(m).eval()


def test_graph_module_is_named_after_node_ids(seed):
    m, ids, gm = seed
    assert isinstance(gm, fx.GraphModule)
    assert [n for n, _ in gm.named_children()] == ids[1:-1]
    assert {n.target for n in gm.graph.nodes if n.op == "call_module"} == set(ids[1:-1])
    assert all(k.split(".")[0] in ids for k in gm.state_dict())


def test_trace_script_and_export_agree(seed):
    m, _, gm = seed
    x = example_inputs(m, batch=3)
    with torch.no_grad():
        want = gm(*x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript is deprecated but still offered
            traced = torch.jit.trace(gm, x)
            scripted = torch.jit.script(gm)
        torch.testing.assert_close(traced(*x), want)
        torch.testing.assert_close(scripted(*x), want)
        exported = torch.export.export(gm, x)
        torch.testing.assert_close(exported.module()(*x), want)


def test_invalid_graph_does_not_compile():
    m, _ = sequential([("Linear", {})], {"kind": "image"})
    with pytest.raises(CompileError, match="Insert a Flatten"):
        compile_graph(m)
