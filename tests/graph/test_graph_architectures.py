"""Whole architectures: residual Add, Concat, LSTM over T×F (all steps / last
step, bidirectional, 2 layers) and an Embedding → GRU text classifier, checked
against hand-written PyTorch with the same weights."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from studio.graph.builder import chain, sequential
from studio.graph.compile import compile_graph, example_inputs
from studio.graph.model import GraphModel
from studio.graph.validate import validate


def _copy_weights(gm, ref: nn.Module) -> None:
    """Load gm's tensors into ref by order; both declare layers in the same order."""
    src = list(gm.state_dict().values())
    dst = ref.state_dict()
    assert [tuple(t.shape) for t in src] == [tuple(t.shape) for t in dst.values()]
    ref.load_state_dict(dict(zip(dst.keys(), src)))


def residual_block() -> tuple[GraphModel, dict]:
    m = GraphModel()
    (inp, stem) = chain(m, [("Input", {"channels": 3, "height": 8, "width": 8}),
                            ("Conv2d", {"out_channels": 16, "padding": 1})])
    c1, r1, c2 = chain(m, [("Conv2d", {"out_channels": 16, "padding": 1}), "ReLU",
                           ("Conv2d", {"out_channels": 16, "padding": 1})], start=stem)
    add = m.add_node("Add")
    m.connect(c2, "out", add, "in")
    m.connect(stem, "out", add, "in")  # the skip wire
    tail = chain(m, ["ReLU", "AdaptiveAvgPool2d", "Flatten", ("Linear", {"out_features": 10}), "Output"],
                 start=add)
    return m, dict(stem=stem, add=add, tail=tail)


def test_residual_block_with_add():
    m, ids = residual_block()
    assert validate(m) == []
    assert m.shapes.out(ids["add"]).dims == (16, 8, 8)
    assert m.shapes.info[ids["add"]].macs == 16 * 8 * 8  # one addition per element
    gm = compile_graph(m)

    class Ref(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, padding=1)
            self.c1 = nn.Conv2d(16, 16, 3, padding=1)
            self.c2 = nn.Conv2d(16, 16, 3, padding=1)
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            s = self.stem(x)
            y = torch.relu(self.c2(torch.relu(self.c1(s))) + s)
            return self.fc(y.mean((2, 3)))

    ref = Ref()
    _copy_weights(gm, ref)
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(gm(x), ref(x), atol=1e-5, rtol=1e-5)


def test_concat_stacks_channels_and_features():
    m = GraphModel()
    inp = m.add_node("Input", {"channels": 3, "height": 6, "width": 6})
    a = chain(m, [("Conv2d", {"out_channels": 4, "padding": 1})], start=inp)[0]
    b = chain(m, [("Conv2d", {"out_channels": 5, "kernel_size": 1})], start=inp)[0]
    cat = m.add_node("Concat")
    m.connect(a, "out", cat, "in")
    m.connect(b, "out", cat, "in")
    m.connect(inp, "out", cat, "in")
    chain(m, ["Flatten", ("Linear", {"out_features": 2}), "Output"], start=cat)
    assert validate(m) == []
    assert m.shapes.out(cat).dims == (12, 6, 6)
    gm = compile_graph(m)
    x = torch.randn(2, 3, 6, 6)
    expect = torch.cat([gm.get_submodule(a)(x), gm.get_submodule(b)(x), x], dim=1)
    torch.testing.assert_close(gm.get_submodule(cat)(*[gm.get_submodule(a)(x), gm.get_submodule(b)(x), x]),
                               expect)
    assert gm(x).shape == (2, 2)


def test_concat_of_mismatched_sizes_says_which():
    m = GraphModel()
    inp = m.add_node("Input", {"channels": 3, "height": 6, "width": 6})
    a = chain(m, [("Conv2d", {"out_channels": 4})], start=inp)[0]  # 4×4×4
    cat = m.add_node("Concat")
    m.connect(a, "out", cat, "in")
    m.connect(inp, "out", cat, "in")
    assert m.shapes.error(cat) == "Concat needs equal height and width, got 4×4×4 and 3×6×6"


SEQ = {"kind": "sequence", "length": 9, "features": 5}


@pytest.mark.parametrize("output", ["all steps", "last step"])
@pytest.mark.parametrize("bidirectional,layers", [(False, 1), (True, 2)])
def test_lstm_over_a_sequence(output, bidirectional, layers):
    params = {"hidden_size": 7, "num_layers": layers, "bidirectional": bidirectional, "output": output}
    head = [("Linear", {"out_features": 3})] if output == "last step" else ["Flatten", ("Linear", {"out_features": 3})]
    m, ids = sequential([("LSTM", params), *head], SEQ)
    lstm = ids[1]
    h = 7 * (2 if bidirectional else 1)
    shape = m.shapes.out(lstm)
    if output == "all steps":
        assert shape.dims == (9, h) and shape.seq and shape.label() == f"T×{h}"
    else:
        assert shape.dims == (h,) and not shape.seq
    gm = compile_graph(m)
    ref = nn.LSTM(5, 7, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    ref.load_state_dict({k.split("rnn.", 1)[1]: v for k, v in gm.state_dict().items() if k.startswith(f"{lstm}.")})
    x = torch.randn(4, 9, 5)
    seq_out, (hn, _) = ref(x)
    got = gm.get_submodule(lstm)(x)
    if output == "all steps":
        torch.testing.assert_close(got, seq_out)
    else:
        # Last step = final hidden state of the top layer, both directions.
        expect = torch.cat([hn[-2], hn[-1]], 1) if bidirectional else hn[-1]
        torch.testing.assert_close(got, expect)
        # Forward half equals the last time step of the full output.
        torch.testing.assert_close(got[:, :7], seq_out[:, -1, :7])
    assert gm(x).shape == (4, 3)


def test_embedding_gru_text_classifier():
    inp = {"kind": "tokens", "length": 12, "vocab": 50}
    m, ids = sequential([("Embedding", {"embedding_dim": 8}), ("GRU", {"hidden_size": 16}),
                         ("Linear", {"out_features": 4})], inp)
    _, emb, gru, lin, out = ids
    assert validate(m) == []
    assert m.shapes.out(ids[0]).dtype == "long"
    assert m.shapes.out(emb).dims == (12, 8) and m.shapes.out(emb).seq
    assert m.shapes.out(gru).dims == (16,)
    assert m.shapes.info[emb].weights == 50 * 8
    gm = compile_graph(m)
    (x,) = example_inputs(m, batch=3)
    assert x.dtype == torch.long and int(x.max()) < 50

    class Ref(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 8)
            self.gru = nn.GRU(8, 16, batch_first=True)
            self.fc = nn.Linear(16, 4)

        def forward(self, t):
            _, h = self.gru(self.emb(t))
            return self.fc(h[-1])

    ref = Ref()
    _copy_weights(gm, ref)
    torch.testing.assert_close(gm(x), ref(x), atol=1e-5, rtol=1e-5)


def test_token_ids_need_an_embedding_first():
    m, ids = sequential([("GRU", {})], {"kind": "tokens"})
    assert "Add an Embedding first" in m.shapes.error(ids[1])
    m, ids = sequential([("Linear", {})], {"kind": "tokens"})
    assert "add an Embedding first" in m.shapes.error(ids[1])
