"""Channel shuffles and channel chunks in the user's own code: which calls become
ChannelShuffle and ChannelChunk layers, and which keep their module opaque."""
from __future__ import annotations

import textwrap

import torch

from studio.graph.blocks import walk
from studio.importer import compiled_with_weights, import_model

CODE = textwrap.dedent('''
    import torch
    from torch import nn
    from torchvision.models.shufflenetv2 import channel_shuffle


    class Shuffle(nn.Module):
        def forward(self, x):
            return channel_shuffle(x, groups=3)


    class Swap(nn.Module):
        def forward(self, x):
            a, b = torch.chunk(x, 2, dim=-3)
            return torch.cat([b, a], dim=1)


    class Thirds(nn.Module):
        def forward(self, x):
            parts = x.chunk(3, 1)
            return torch.cat([parts[-1], parts[0]], dim=1)


    class Rows(nn.Module):  # halves of the height: no channel chunk
        def forward(self, x):
            top, bottom = x.chunk(2, dim=2)
            return top + bottom


    class Counted(nn.Module):  # groups from the batch size: not a fixed number
        def forward(self, x):
            return channel_shuffle(x, x.shape[0])


    class Halves(nn.Module):  # groups from the channels: a fixed number at the import's input size
        def forward(self, x):
            return channel_shuffle(x, x.shape[1] // 2)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 6, 3, padding=1)
            self.shuffle, self.swap, self.thirds = Shuffle(), Swap(), Thirds()
            self.rows, self.counted, self.halves = Rows(), Counted(), Halves()
            self.builtin = nn.ChannelShuffle(2)

        def forward(self, x):
            x = self.swap(self.shuffle(self.conv(x)))
            return self.counted(self.rows(self.halves(self.builtin(self.thirds(x)))))
''')


def test_shuffles_and_chunks_of_channels_become_layers(tmp_path):
    (tmp_path / "net.py").write_text(CODE, encoding="utf-8")
    torch.manual_seed(0)
    r = import_model(f"{tmp_path / 'net.py'}:Net", input="image:3,8,8")
    layers = [(g.type_of(n), g.params(n)) for g, n, _ in walk(r.project.model)]
    assert [p["groups"] for t, p in layers if t == "ChannelShuffle"] == [3, 2, 2]  # halves: 4 channels // 2
    assert sorted((p["chunks"], p["part"]) for t, p in layers if t == "ChannelChunk") == [(2, 0), (2, 1), (3, 0),
                                                                                         (3, 2)]
    opaque = {r.project.model.params(n)["path"]: why for n, why in r.opaque.items()}
    assert set(opaque) == {"rows", "counted"}, opaque
    assert ("chunk" in opaque["rows"] or "getitem" in opaque["rows"]) and "not a fixed whole number" in opaque["counted"]
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        want, got = r.source.module(x), compiled_with_weights(r)(x)
    assert want.abs().max() > 0.01 and (want - got).abs().max().item() <= 1e-6
