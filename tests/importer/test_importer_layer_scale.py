"""A block that multiplies by its own Parameter (ConvNeXt's layer_scale) and permutes to
channels last imports as Permute, LayerNorm, per-position Linear and LayerScale layers,
with the block's weights loaded by name and the same outputs."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.ops.misc import Permute as TVPermute

from studio.graph.blocks import walk
from studio.graph.compile import compile_graph
from studio.importer.convert import convert


class ToyCNBlock(nn.Module):
    """ConvNeXt's CNBlock, small; `permute` picks torchvision's module or the tensor method."""

    def __init__(self, dim: int, permute: str = "module", scale: str = "parameter", shape=None):
        super().__init__()
        self.method = permute == "method"
        self.conv = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.to_last, self.to_first = TVPermute([0, 2, 3, 1]), TVPermute([0, 3, 1, 2])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.up, self.act, self.down = nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)
        start = torch.full(shape or (dim, 1, 1), 1e-6)
        if scale == "parameter":
            self.layer_scale = nn.Parameter(start)
        else:
            self.register_buffer("layer_scale", start)

    def forward(self, x):
        y = self.conv(x)
        y = y.permute(0, 2, 3, 1) if self.method else self.to_last(y)
        y = self.down(self.act(self.up(self.norm(y))))
        y = torch.permute(y, (0, 3, 1, 2)) if self.method else self.to_first(y)
        return x + self.layer_scale * y


class Net(nn.Module):
    def __init__(self, **block):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 2, stride=2)
        self.blocks = nn.Sequential(ToyCNBlock(8, **block), ToyCNBlock(8, permute="method"))
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


def _randomised(net: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():  # not the 1e-6 and 1/0 starts, so a mix-up would show
            p.copy_(torch.randn_like(p))
    return net.eval()


def _types(model) -> list[str]:
    return [g.type_of(n) for g, n, _ in walk(model)]


@pytest.mark.parametrize("blocks", [True, False], ids=["blocks", "flat"])
def test_cnblock_imports_as_layers_with_its_weights_by_name(blocks):
    net = _randomised(Net())
    x = torch.randn(2, 3, 12, 12)
    c = convert(net, (x,), blocks=blocks)
    assert c.opaque == {} and c.unused == {}
    types = _types(c.model)
    assert types.count("Permute") == 4 and types.count("LayerScale") == 2 and types.count("LayerNorm") == 2
    per_position = [p["per_position"] for g, n, _ in walk(c.model) if g.type_of(n) == "Linear"
                    for p in [g.params(n)]]
    assert per_position == [True, True, True, True, False]  # the head takes a flat vector
    gm = compile_graph(c.model)
    gm.load_state_dict(c.state, strict=True)
    assert sum(p.numel() for p in gm.parameters()) == sum(p.numel() for p in net.parameters())
    with torch.no_grad():
        want, got = net(x), gm.eval()(x)
    assert want.abs().max() > 0.1 and torch.equal(want, got)
    if blocks:  # the block's own Parameter is its LayerScale layer, named after it
        assert torch.equal(c.state["blocks.blocks_0.layer_scale.weight"], net.blocks[0].layer_scale)
        assert torch.equal(c.state["blocks.blocks_0.up.weight"], net.blocks[0].up.weight)


def test_meta_import_counts_the_scale_once():
    with torch.device("meta"):
        net = Net()
    c = convert(net, (torch.empty(1, 3, 12, 12, device="meta"),))
    assert c.opaque == {} and c.model.shapes.totals()[0] == sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("block,why", [
    (dict(scale="buffer"), ".mul() is not a Studio layer"),  # not learned: no LayerScale
    (dict(shape=(1, 1, 1)), "not one learned number per channel (8×1×1)"),
])
def test_other_multipliers_keep_their_block_opaque_and_say_why(block, why):
    net = _randomised(Net(**block))
    x = torch.randn(2, 3, 12, 12)
    c = convert(net, (x,))
    assert len(c.opaque) == 1 and why in next(iter(c.opaque.values()))
    assert _types(c.model).count("LayerScale") == 1  # the second block's is a Parameter


def test_a_parameter_used_twice_is_not_taken_as_a_layer_scale():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(torch.ones(4))
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.s * self.fc(x) + self.s * x

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.twice, self.head = Twice(), nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.twice(x))

    c = convert(Outer(), (torch.randn(2, 4),))
    assert list(c.opaque.values()) and "LayerScale" not in _types(c.model)


def test_exported_python_imports_back_layer_for_layer(tmp_path):
    """Studio's own Permute and LayerScale in a generated .py map back to the same layers."""
    from studio.graph.codegen import generate
    from studio.importer import import_model
    from tests.graph.block_specimens import cnblock
    first = cnblock(channels=4, init=0.125)
    (tmp_path / "cn.py").write_text(generate(first), encoding="utf-8")
    again = import_model(f"{tmp_path / 'cn.py'}:StudioModel", input="image:4,8,8")
    assert not again.opaque

    def layers(model):  # (type, params) of every layer; the one block holding them all is not kept
        return sorted((g.type_of(n), sorted(g.params(n).items())) for g, n, _ in walk(model)
                      if g.type_of(n) not in ("Input", "Output", "Block", "BlockInput", "BlockOutput"))
    assert layers(again.project.model) == layers(first)
    assert [t for t, _ in layers(first)].count("Permute") == 2
