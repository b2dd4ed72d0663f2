"""Permute, LayerScale and the per-position Linear (ConvNeXt's block): shapes, clear
errors, weight counts, the palette, a project round trip and the .py export."""
from __future__ import annotations

import pytest
import torch

from studio.graph.builder import sequential
from studio.graph.codegen import generate
from studio.graph.compile import compile_graph, example_inputs
from studio.graph.layers import by_category, spec
from studio.graph.model import GraphError
from studio.project.file import dumps, loads
from studio.project.model import Project
from tests.graph.block_specimens import cnblock
from tests.graph.test_graph_codegen_blocks import load

IMG = {"kind": "image", "channels": 6, "height": 5, "width": 4}
SEQ = {"kind": "sequence", "length": 7, "features": 3}
MSE = {"loss": "mse", "task": "regression"}


def _shape(layers, inp=IMG):
    m, ids = sequential(layers, inp)
    return m.shapes.out(ids[-2]), m.shapes.error(ids[-2])


@pytest.mark.parametrize("dims,want", [((0, 2, 3, 1), (5, 4, 6)), ((0, 3, 1, 2), (4, 6, 5)),
                                       ((0, 1, 2, 3), (6, 5, 4)), ((0, -1, 1, 2), (4, 6, 5))])
def test_permute_reorders_the_dimensions_after_the_batch(dims, want):
    shape, err = _shape([("Permute", {"dims": dims})])
    assert err is None and shape.dims == want and not shape.seq


def test_permute_keeps_a_sequence_only_while_time_stays_first():
    assert _shape([("Permute", {"dims": [0, 1, 2]})], SEQ)[0].seq
    flipped, _ = _shape([("Permute", {"dims": [0, 2, 1]})], SEQ)
    assert flipped.dims == (3, 7) and not flipped.seq


@pytest.mark.parametrize("dims,message", [
    ((0, 2, 1), "Permute order (0, 2, 1) must list each of the dimensions 0 to 3 of 6×5×4 once (0 is the batch)"),
    ((0, 2, 2, 1), "must list each of the dimensions 0 to 3"),
    ((0, 1, 2, 3, 4), "must list each of the dimensions 0 to 3"),
    ((1, 0, 2, 3), "must keep the batch (dimension 0) first"),
])
def test_permute_says_what_is_wrong_with_its_order(dims, message):
    shape, err = _shape([("Permute", {"dims": dims})])
    assert shape is None and message in err


def test_linear_per_position_works_on_the_last_dimension_and_is_counted():
    m, ids = sequential([("Permute", {}), ("Linear", {"out_features": 10, "per_position": True})], IMG)
    assert m.shapes.out(ids[2]).dims == (5, 4, 10)
    assert m.shapes.totals()[0] == 6 * 10 + 10
    assert "per position" in spec("Linear").summary(m.params(ids[2]))
    plain, err = _shape([("Permute", {}), ("Linear", {"out_features": 10})])
    assert plain is None and "Insert a Flatten" in err  # still the learner's hint without the choice


@pytest.mark.parametrize("inp,weights", [(IMG, 6), (SEQ, 3), ({"kind": "vector", "features": 9}, 9)])
def test_layer_scale_keeps_the_shape_and_learns_one_number_per_channel(inp, weights):
    m, ids = sequential([("LayerScale", {"init": 0.25})], inp, MSE)
    assert m.shapes.error(ids[1]) is None and m.shapes.out(ids[1]) == m.shapes.out(ids[0])
    assert m.shapes.totals()[0] == weights
    gm = compile_graph(m)
    (w,) = gm.state_dict().values()
    assert w.numel() == weights and bool((w == 0.25).all())
    if inp is IMG:
        assert tuple(w.shape) == (6, 1, 1)  # as ConvNeXt holds it, so its weights load by name


def test_layer_scale_needs_numbers_and_a_sane_start():
    m, ids = sequential([("LayerScale", {})], {"kind": "tokens", "length": 4, "vocab": 9})
    assert "needs numbers, not token ids" in m.shapes.error(ids[1])
    with pytest.raises(GraphError, match="init must be at least 0"):
        sequential([("LayerScale", {"init": -1.0})], IMG)


def test_palette_lists_the_layers_in_their_sections():
    cats = {c: [s.type for s in specs] for c, specs in by_category().items()}
    assert "Permute" in cats["Dense & Shape"] and "LayerScale" in cats["Normalization"]
    norm = cats["Normalization"]
    assert norm.index("LayerScale") == norm.index("StochasticDepth") + 1  # the residual-branch pair


def test_cnblock_round_trips_through_a_project_file():
    m = cnblock(channels=4, init=0.125)
    again = loads(dumps(Project(model=m, name="cn"))).model
    assert again.snapshot() == m.snapshot()
    torch.manual_seed(0)
    a = compile_graph(m).eval()
    b = compile_graph(again).eval()
    b.load_state_dict(a.state_dict(), strict=True)
    x = example_inputs(m, batch=2)
    with torch.no_grad():
        assert torch.equal(a(*x), b(*x))


def test_cnblock_exports_as_python_that_matches_the_compiled_module():
    m = cnblock(channels=4)
    torch.manual_seed(0)
    gm = compile_graph(m).eval()
    src = generate(m)
    assert "class Permute" in src and "class LayerScale" in src and "Permute(dims=(0, 2, 3, 1))" in src
    net = load(src)["StudioModel"]()
    net.load_state_dict(gm.state_dict(), strict=True)
    x = example_inputs(m, batch=3)
    with torch.no_grad():
        want = gm(*x)
        assert torch.equal(net.eval()(*x), want)
    assert want.abs().max() > 0.1  # the branch is scaled by 0.125, not switched off
    gm.train()  # stochastic depth drops the branch for some examples while training
    torch.manual_seed(3)
    drops = [bool(torch.equal(gm(*x)[i], x[0][i])) for _ in range(5) for i in range(3)]
    assert any(drops) and not all(drops)
