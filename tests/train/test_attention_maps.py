"""Attention maps of Transformer encoder nodes: the weights each layer's self-attention
really used (checked against softmax(QKᵀ/√d) by hand from the module's own projections),
for post-norm and pre-norm layers, inside blocks, for imported ViT encoders, and from
the per-epoch probe only for the nodes a view asks for."""
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from studio.graph.builder import sequential
from studio.graph.compile import compile_graph
from studio.train import attention_maps

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SEQ = {"kind": "sequence", "length": 6, "features": 8}


def _encoder_net(norm_first=False, layers=2, heads=2):
    m, ids = sequential([("TransformerEncoder", {"nhead": heads, "dim_feedforward": 16, "num_layers": layers,
                                                 "dropout": 0.3, "norm_first": norm_first}),
                         ("Mean", {"dims": [1]}), ("Linear", {"out_features": 3})], input_params=SEQ)
    torch.manual_seed(0)
    return m, ids, compile_graph(m)


def _by_hand(mha: nn.MultiheadAttention, x: torch.Tensor) -> torch.Tensor:
    """N×heads×T×T from the in-projection weights: softmax(Q Kᵀ / √d) per head."""
    d, h = mha.embed_dim, mha.num_heads
    q, k, _ = (x @ mha.in_proj_weight.T + mha.in_proj_bias).split(d, dim=-1)
    n, t, _ = x.shape
    q = q.reshape(n, t, h, d // h).transpose(1, 2)
    k = k.reshape(n, t, h, d // h).transpose(1, 2)
    return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1)


@pytest.mark.parametrize("norm_first", [False, True])
def test_weights_are_softmax_of_queries_and_keys_of_what_self_attn_received(norm_first):
    m, ids, net = _encoder_net(norm_first)
    x = torch.randn(3, 6, 8)
    net.train()  # the capture runs in eval mode and puts the mode back
    maps = attention_maps.capture(net, x)
    assert list(maps) == [ids[1]] and maps[ids[1]].shape == (3, 2, 2, 6, 6)
    assert net.training
    torch.testing.assert_close(maps[ids[1]].sum(-1), torch.ones(3, 2, 2, 6))
    layers = attention_maps.encoder_layers(getattr(net, ids[1]))
    with torch.no_grad():
        h = x
        for i, layer in enumerate(layers):
            seen = layer.norm1(h) if norm_first else h   # what self_attn gets
            torch.testing.assert_close(maps[ids[1]][:, i], _by_hand(layer.self_attn, seen), atol=1e-5, rtol=0)
            h = layer.eval()(h)
    # Different layers, different maps: each is computed from its own input.
    assert (maps[ids[1]][:, 0] - maps[ids[1]][:, 1]).abs().max() > 1e-3


def test_only_the_nodes_asked_for_and_none_elsewhere():
    m, ids, net = _encoder_net()
    assert attention_maps.capture(net, torch.randn(1, 6, 8), nodes=[ids[3]]) == {}
    wish = attention_maps.Wish()
    assert attention_maps.for_probe(net, torch.randn(1, 6, 8), wish) == {ids[1]: None}
    wish.ask("tab", [ids[1]])
    wish.ask("inspector", [ids[3]])
    assert wish.nodes() == {ids[1], ids[3]}
    got = attention_maps.for_probe(net, torch.randn(1, 6, 8), wish)
    assert got[ids[1]].shape == (1, 2, 2, 6, 6)
    wish.ask("tab", [])
    assert attention_maps.for_probe(net, torch.randn(1, 6, 8), wish) == {ids[1]: None}


def test_an_encoder_inside_a_repeated_block_by_its_module_path():
    from studio.graph.blocks import group, qualified
    m, ids = sequential([("Linear", {"out_features": 8}),
                         ("TransformerEncoder", {"nhead": 4, "dim_feedforward": 8, "num_layers": 1}),
                         ("Mean", {"dims": [1]})], input_params=SEQ)
    rec = group(m, ids[2:3], "Attend")
    m.set_param(rec.block, "repeat", 2)
    body = m.body(rec.block)
    inner = [n for n in body.nodes() if body.type_of(n) == "TransformerEncoder"][0]
    maps = attention_maps.capture(compile_graph(m), torch.randn(2, 6, 8))
    assert set(maps) == {f"{rec.block}.0.{inner}", f"{rec.block}.1.{inner}"}
    assert qualified(body, inner) in maps and maps[qualified(body, inner)].shape == (2, 1, 4, 6, 6)


VIT = """
from torchvision.models import VisionTransformer


class Tiny(VisionTransformer):
    def __init__(self):
        super().__init__(image_size=16, patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                         num_classes=3)
"""


def test_an_imported_vit_encoder_shows_its_patches_and_class_token(tmp_path):
    from studio.importer import compiled_with_weights, import_model
    (tmp_path / "tiny_vit.py").write_text(VIT)
    torch.manual_seed(0)
    r = import_model(f"{tmp_path / 'tiny_vit.py'}:Tiny", input="image:3,16,16")
    x = torch.randn(2, 3, 16, 16)
    maps = attention_maps.capture(compiled_with_weights(r), x)
    assert len(maps) == 2 and all(v.shape == (2, 1, 2, 17, 17) for v in maps.values())  # 16 patches + class
    torch.testing.assert_close(next(iter(maps.values())).sum(-1), torch.ones(2, 1, 2, 17))
    # The source's own first block, by hand: its ln_1 output into its self_attention.
    source = r.source.module.eval()
    block = source.encoder.layers[0]
    with torch.no_grad():
        seq = source._process_input(x)
        seq = torch.cat([source.class_token.expand(2, -1, -1), seq], dim=1) + source.encoder.pos_embedding
        want = _by_hand(block.self_attention, block.ln_1(seq))
    assert sum(torch.allclose(m[:, 0], want, atol=1e-5) for m in maps.values()) == 1


def test_the_probe_works_maps_out_after_each_epoch_only_when_asked():
    from studio.data.load import load_dataset
    from studio.project.file import load
    from studio.train.activations import ActivationProbe
    from studio.train.trainer import Trainer
    p = load(SAMPLES / "waves_transformer.studio.json")
    p.data.samples, p.train.epochs, p.train.device = 120, 2, "cpu"
    act = ActivationProbe()
    wish = attention_maps.Wish()
    probe = attention_maps.AttentionProbe(act, wish)
    t = Trainer(p, load_dataset(p.data), callbacks=[act, probe], log_interval=0)
    act.trainer = t
    seen = []
    asked = {}

    class Spy:
        def on_epoch_end(self, e):
            seen.append({k: None if v is None else tuple(v.shape) for k, v in probe.latest[1].items()})
            wish.ask("tab", asked)  # a view starts to look after the first epoch

    t.callbacks.append(Spy())
    node = [n for n in p.model.nodes() if p.model.type_of(n) == "TransformerEncoder"][0]
    asked = [node]
    t.run()
    assert seen[0] == {node: None}
    assert seen[1] == {node: (4, 1, 4, 32, 32)}  # 4 probe examples, 1 layer, 4 heads, 32 steps


def test_summary_of_one_head_or_the_mean_of_heads():
    maps = torch.softmax(torch.randn(2, 3, 5, 5), dim=-1)
    one = attention_maps.summarize(maps, 1, 2)
    assert one.image.shape == (5, 5) and one.image.max() == pytest.approx(1.0)
    torch.testing.assert_close(torch.from_numpy(one.image) * maps[1, 2].max(), maps[1, 2])
    mean = attention_maps.summarize(maps, 0, None)
    torch.testing.assert_close(torch.from_numpy(mean.image) * maps[0].mean(0).max(), maps[0].mean(0))
    assert "layer 2, head 3" in one.caption and "mean of heads" in mean.caption
