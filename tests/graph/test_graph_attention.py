"""Attention layers: shapes and the errors a learner meets, weight and mult-add counts
against torch's own modules, the project file, and CPU bf16."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from studio.graph.builder import sequential
from studio.graph.compile import build_module, compile_graph, example_inputs
from studio.graph.layers import by_category, spec
from studio.graph.spec import Shape
from studio.project.file import dumps, loads
from studio.project.model import Project

SEQ = {"kind": "sequence", "length": 6, "features": 12}
MSE = {"loss": "mse", "task": "regression"}


def one(type_: str, params: dict, inp: dict = SEQ):
    m, (_, nid, _) = sequential([(type_, params)], inp, MSE)
    return m, nid


def test_the_palette_lists_attention_layers_in_their_own_section():
    assert [s.type for s in by_category()["Attention"]] == ["TransformerEncoder", "PositionalEncoding"]


@pytest.mark.parametrize("type_,params", [("TransformerEncoder", {"nhead": 3}), ("PositionalEncoding", {}),
                                          ("PositionalEncoding", {"kind": "sinusoidal", "max_len": 6})])
def test_a_sequence_keeps_its_shape(type_, params):
    m, nid = one(type_, params)
    assert m.shapes.error(nid) is None
    assert m.shapes.out(nid) == Shape((6, 12), seq=True)


def test_heads_must_divide_the_features_and_the_error_says_which_do():
    m, nid = one("TransformerEncoder", {"nhead": 5})
    err = m.shapes.error(nid)
    assert "5 heads" in err and "12 features" in err and "1, 2, 3, 4, 6, 12" in err


@pytest.mark.parametrize("inp,words,insert", [
    ({"kind": "image", "channels": 3, "height": 4, "width": 4}, "Image rows", "ImageRows"),
    ({"kind": "tokens", "length": 5, "vocab": 9}, "Embedding first", None),
    ({"kind": "vector", "features": 12}, "needs a sequence T×F, got 12", None)])
def test_only_float_sequences_are_taken(inp, words, insert):
    for type_ in ("TransformerEncoder", "PositionalEncoding"):
        m, nid = one(type_, {"nhead": 1} if type_ == "TransformerEncoder" else {}, inp)
        assert words in m.shapes.error(nid), type_
        assert m.shapes.info[nid].fix_layer == insert


def test_a_sequence_longer_than_the_positions_is_refused():
    m, nid = one("PositionalEncoding", {"max_len": 5})
    assert "at least 6" in m.shapes.error(nid)
    m.set_param(nid, "max_len", 6)
    assert m.shapes.error(nid) is None


@pytest.mark.parametrize("params", [dict(nhead=4, dim_feedforward=20, num_layers=1),
                                    dict(nhead=2, dim_feedforward=7, num_layers=3, norm_first=True,
                                         activation="gelu")])
def test_weights_equal_torchs_transformer_encoder(params):
    m, nid = one("TransformerEncoder", params)
    layer = nn.TransformerEncoderLayer(12, params["nhead"], params["dim_feedforward"], batch_first=True,
                                       norm_first=params.get("norm_first", False))
    torch_count = sum(p.numel() for p in nn.TransformerEncoder(layer, params["num_layers"],
                                                               enable_nested_tensor=False).parameters())
    assert m.shapes.info[nid].weights == torch_count


def test_mult_adds_match_torchs_flop_counter():
    m, nid = one("TransformerEncoder", dict(nhead=3, dim_feedforward=10, num_layers=2))
    info = m.shapes.info[nid]
    mod = build_module("TransformerEncoder", m.params(nid), info.inputs).train()  # eval takes a fused kernel
    with FlopCounterMode(display=False) as fc:
        mod(torch.randn(1, 6, 12))
    assert 2 * info.macs == fc.get_total_flops()


def test_mean_on_a_sequence_says_that_dimension_1_is_time():
    m, nid = one("Mean", {})  # its default (2, 3) is an image's height and width
    assert "1 averages over time" in m.shapes.error(nid)
    m.set_param(nid, "dims", (1,))
    assert m.shapes.out(nid) == Shape((12,))


def test_learned_positions_are_weights_and_sinusoidal_ones_are_not():
    m, nid = one("PositionalEncoding", {"max_len": 10})
    mod = build_module("PositionalEncoding", m.params(nid), m.shapes.info[nid].inputs)
    assert m.shapes.info[nid].weights == 10 * 12 == sum(p.numel() for p in mod.parameters())
    m.set_param(nid, "kind", "sinusoidal")
    mod = build_module("PositionalEncoding", m.params(nid), m.shapes.info[nid].inputs)
    assert m.shapes.info[nid].weights == 0 and not list(mod.parameters()) and not mod.state_dict()
    # Each step gets its own vector: position 0 is sin(0)=0 / cos(0)=1, and no two rows repeat.
    assert torch.equal(mod.pe[0, :4], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    assert len({tuple(r.tolist()) for r in mod.pe}) == 10


def test_positions_make_attention_see_order():
    """Without positions, reversing the steps only reverses the encoder's output; with them it does not."""
    torch.manual_seed(0)
    x = torch.randn(2, 6, 12)
    for with_positions in (False, True):
        layers = ([("PositionalEncoding", {})] if with_positions else []) + [
            ("TransformerEncoder", {"nhead": 3, "dropout": 0.0})]
        m, _ = sequential(layers, SEQ, MSE)
        net = compile_graph(m).eval()
        with torch.no_grad():
            same = torch.allclose(net(x.flip(1)), net(x).flip(1), atol=1e-5)
        assert same is (not with_positions)


def test_project_file_round_trip_keeps_layers_and_outputs():
    m, _ = sequential([("PositionalEncoding", {"kind": "sinusoidal", "max_len": 9}),
                       ("TransformerEncoder", {"nhead": 6, "dim_feedforward": 24, "num_layers": 2,
                                               "activation": "gelu", "norm_first": True, "dropout": 0.2}),
                       ("Mean", {"dims": [1]}), ("Linear", {"out_features": 3})], SEQ, MSE)
    p = Project(model=m, name="attention")
    back = loads(dumps(p))
    assert back.model.snapshot() == m.snapshot()
    assert back.model.shapes.totals() == m.shapes.totals()
    torch.manual_seed(0)
    a = compile_graph(m).eval()
    b = compile_graph(back.model).eval()
    b.load_state_dict(a.state_dict(), strict=True)
    x = example_inputs(m, batch=3)
    with torch.no_grad():
        torch.testing.assert_close(b(*x), a(*x), atol=1e-6, rtol=0)


@pytest.mark.parametrize("training", [True, False])
def test_runs_under_cpu_bf16_autocast(training):
    m, _ = sequential([("PositionalEncoding", {}), ("TransformerEncoder", {"nhead": 3, "dropout": 0.0}),
                       ("Mean", {"dims": [1]})], SEQ, MSE)
    torch.manual_seed(0)
    net = compile_graph(m).train(training)
    x = example_inputs(m, batch=4)
    with torch.no_grad():
        want = net(*x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = net(*x)
    assert got.shape == want.shape and torch.isfinite(got).all()
    assert (got.float() - want).abs().max() < 0.1


def test_help_texts_explain_attention_for_a_learner():
    enc, pos = spec("TransformerEncoder"), spec("PositionalEncoding")
    assert "every other step" in enc.description and "order" in enc.description
    assert "where in the sequence" in pos.description
    assert "must divide F" in enc.param("nhead").help
