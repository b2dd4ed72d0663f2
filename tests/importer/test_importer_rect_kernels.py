"""Non-square convolutions (inception's factorised 7×7) import as Conv2d layers with
height×width sizes, not as opaque modules, and give the same outputs."""
from __future__ import annotations

import textwrap

import torch

from studio.graph.blocks import walk
from studio.importer import compiled_with_weights, import_model

CODE = textwrap.dedent('''
    from torch import nn


    class Factorised(nn.Module):
        """A 7×7 view as a 1×7 then a 7×1 convolution, as in inception_v3."""
        def __init__(self):
            super().__init__()
            self.row = nn.Conv2d(3, 6, kernel_size=(1, 7), padding=(0, 3))
            self.column = nn.Conv2d(6, 5, kernel_size=(7, 1), padding=(3, 0), bias=False)
            self.odd = nn.Conv2d(5, 4, kernel_size=(3, 2), stride=(2, 1), dilation=(1, 2))
            self.square = nn.Conv2d(4, 4, kernel_size=(3, 3), padding=(1, 1))

        def forward(self, x):
            return self.square(self.odd(self.column(self.row(x).relu())))
''')


def test_a_1x7_and_7x1_pair_imports_without_opaque_nodes_and_with_exact_outputs(tmp_path):
    (tmp_path / "net.py").write_text(CODE, encoding="utf-8")
    torch.manual_seed(0)
    r = import_model(f"{tmp_path / 'net.py'}:Factorised", input="image:3,12,16")
    assert r.opaque == {}
    convs = {n: g.params(n) for g, n, _ in walk(r.project.model) if g.type_of(n) == "Conv2d"}
    sizes = {(p["kernel_size"], p["padding"], p["stride"], p["dilation"]) for p in convs.values()}
    assert sizes == {((1, 7), (0, 3), 1, 1), ((7, 1), (3, 0), 1, 1), ((3, 2), 0, (2, 1), (1, 2)), (3, 1, 1, 1)}
    src = r.source.module
    assert r.project.model.shapes.totals()[0] == sum(t.numel() for t in src.parameters())
    x = torch.randn(2, 3, 12, 16)
    with torch.no_grad():
        want, got = src(x), compiled_with_weights(r)(x)
    assert want.shape == got.shape == (2, 4, 5, 14)
    assert want.abs().max() > 0.01 and torch.equal(want, got)
