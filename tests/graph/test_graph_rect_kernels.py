"""Conv2d with a height×width kernel ("size2" params): shape inference per axis,
the card summary, counts, the compiled module and the exported code."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from studio.graph.builder import sequential
from studio.graph.codegen import generate
from studio.graph.compile import compile_graph, example_inputs
from studio.graph.layers import LAYERS
from studio.graph.spec import Shape, ShapeError
from tests.graph.test_graph_codegen_blocks import load

CONV = LAYERS["Conv2d"]
IMAGE = {"kind": "image", "channels": 3, "height": 12, "width": 10}
# inception_v3's factorised 7×7: a 1×7 then a 7×1, each padded to keep the size
ROW = {"out_channels": 6, "kernel_size": [1, 7], "padding": [0, 3]}
COLUMN = {"out_channels": 5, "kernel_size": (7, 1), "padding": (3, 0), "stride": (2, 1), "bias": False}


def _params(**over) -> dict:
    return {k: CONV.param(k).check(v) for k, v in (CONV.defaults() | over).items()}


def test_a_1x7_kernel_with_0_3_padding_keeps_the_size_and_matches_torch():
    p = _params(**ROW)
    x = Shape((3, 12, 10))
    out = CONV.infer(p, [x])
    real = nn.Conv2d(3, 6, (1, 7), padding=(0, 3))
    assert out.dims == tuple(real(torch.zeros(1, 3, 12, 10)).shape[1:]) == (6, 12, 10)
    assert CONV.weights(p, [x], out) == sum(t.numel() for t in real.parameters()) == 3 * 6 * 7 + 6
    assert CONV.macs(p, [x], out) == 6 * 12 * 10 * 3 * 7
    assert CONV.summary(p) == "6 · 1×7 p0×3"
    q = _params(**COLUMN)
    assert CONV.infer(q, [x]).dims == tuple(nn.Conv2d(3, 5, (7, 1), (2, 1), (3, 0))(
        torch.zeros(1, 3, 12, 10)).shape[1:]) == (5, 6, 10)
    assert CONV.summary(q) == "5 · 7×1 /2×1 p3×0"


def test_a_kernel_too_tall_for_its_input_names_both_sides():
    with pytest.raises(ShapeError, match=r"^Conv2d kernel 9×1 is larger than its 8×20 input$"):
        CONV.infer(_params(kernel_size=(9, 1)), [Shape((3, 8, 20))])
    with pytest.raises(ShapeError, match=r"kernel 1×13 is larger than its 8×12 input \(with padding\)"):
        CONV.infer(_params(kernel_size=(1, 13), padding=(0, 1)), [Shape((3, 8, 10))])


def test_square_pairs_are_stored_as_their_int_and_bad_pairs_are_refused():
    k = CONV.param("kernel_size")
    assert k.check([3, 3]) == 3 and k.check((1, 7)) == (1, 7) and k.check(5) == 5
    for bad, why in (([1, 2, 3], r"pair \[height, width\]"), ([1, "7"], r"pair \[height, width\]"),
                     ([0, 3], "at least 1"), ([1, 65], "at most 64"), ("1x7", "whole number"), (True, "whole")):
        with pytest.raises(ValueError, match=why):
            k.check(bad)


def test_exported_code_of_a_pair_kernel_runs_and_matches_the_compiled_module():
    m, ids = sequential([("Conv2d", ROW), "ReLU", ("Conv2d", COLUMN), "Flatten", ("Linear", {"out_features": 4})],
                        IMAGE)
    assert m.shapes.out(ids[3]).dims == (5, 6, 10)
    source = generate(m)  # generate() proves the source with codegen_check before returning it
    assert "kernel_size=(1, 7)" in source and "padding=(3, 0)" in source
    torch.manual_seed(0)
    gm = compile_graph(m).eval()
    assert gm.get_submodule(ids[1]).kernel_size == (1, 7)
    net = load(source)["StudioModel"]()
    net.load_state_dict(gm.state_dict(), strict=True)
    x = example_inputs(m, batch=2)
    with torch.no_grad():
        want = gm(*x)
        assert want.abs().max() > 0.01 and torch.equal(net.eval()(*x), want)
