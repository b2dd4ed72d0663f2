"""torchvision's Vision Transformer imports as Studio layers: Conv2d, Image to sequence,
Class token, a learned Positional encoding, one pre-norm TransformerEncoder per
EncoderBlock, LayerNorm, Select step and the head. Its own shape reads and asserts
fold to constants at the import's input size; weights load by name, strictly."""
from __future__ import annotations

import textwrap

import torch
from torchvision.models import VisionTransformer

from studio.graph.blocks import walk
from studio.importer import compiled_with_weights, import_model
from studio.importer.convert import convert

TINY = dict(image_size=16, patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=3)


def _types(model) -> list[str]:
    return [g.type_of(n) for g, n, _ in walk(model) if g.type_of(n) not in ("Block", "BlockInput", "BlockOutput")]


def _noisy(model):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():  # the class token and the head start at zero
            p.add_(torch.randn_like(p) * 0.2)
    return model.eval()


def test_a_tiny_vit_imports_as_layers_with_its_exact_outputs():
    source = _noisy(VisionTransformer(**TINY))
    c = convert(source, (torch.randn(2, 3, 16, 16),))
    assert c.opaque == {} and c.flat == []
    assert sorted(_types(c.model)) == sorted(
        ["Input", "Conv2d", "ImageToSequence", "ClassToken", "PositionalEncoding", "Dropout", "TransformerEncoder",
         "TransformerEncoder", "LayerNorm", "SelectStep", "Linear", "Output"])
    enc = [g.params(n) for g, n, _ in walk(c.model) if g.type_of(n) == "TransformerEncoder"][0]
    assert (enc["nhead"], enc["dim_feedforward"], enc["num_layers"], enc["activation"], enc["norm_first"],
            enc["eps"]) == (2, 32, 1, "gelu", True, 1e-6)
    pos = [g.params(n) for g, n, _ in walk(c.model) if g.type_of(n) == "PositionalEncoding"][0]
    assert (pos["kind"], pos["max_len"]) == ("learned", 17)
    assert c.model.shapes.totals()[0] == sum(p.numel() for p in source.parameters())
    from studio.graph.compile import compile_graph
    net = compile_graph(c.model)
    net.load_state_dict(c.state, strict=True)
    assert torch.equal(c.state["class_token.class_token"], source.class_token)
    x = torch.randn(3, 3, 16, 16)  # another batch size than the import's
    with torch.no_grad():
        want = source(x)
        torch.testing.assert_close(net.eval()(x), want, atol=1e-5, rtol=0)
    assert want.abs().max() > 0.1


def test_the_import_names_the_torch_parts_and_counts_the_weights(tmp_path):
    r = import_model("torchvision:vit_b_32", meta=True)
    assert r.opaque == {} and r.converted.flat == []
    assert r.weights == sum(p.numel() for p in r.source.module.parameters())
    assert r.layers == 20 and _types(r.project.model).count("TransformerEncoder") == 12
    g, nid = r.locate("encoder.layers.encoder_layer_11")
    assert g.type_of(nid) == "TransformerEncoder"
    assert r.locate("class_token")[0].type_of(r.locate("class_token")[1]) == "ClassToken"
    assert r.converted.unused == {}


CODE = textwrap.dedent('''
    import torch
    from torch import nn
    from torchvision.models import VisionTransformer


    class Unequal(VisionTransformer):
        """dropout and attention dropout differ: no single TransformerEncoder rate."""
        def __init__(self):
            super().__init__(16, 4, 1, 2, 8, 16, dropout=0.1, attention_dropout=0.2, num_classes=3)


    class OwnCode(nn.Module):
        """Sizes read from the input, an assert on them, a reshape by the batch size."""
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 2, 2)
            self.fc = nn.Linear(4 * 4 * 4, 5)

        def forward(self, x):
            n, c, h, w = x.shape
            torch._assert(h == 8, f"wrong height {h}")
            torch._assert(x.dim() == 4, "not an image")
            y = self.conv(x)
            y = y.reshape(n, -1, (h // 2) * (w // 2)).permute(0, 2, 1)
            return self.fc(y.reshape(n, 16 * y.shape[-1]))
''')


def test_an_encoder_block_studio_cannot_draw_stays_opaque_and_says_why(tmp_path):
    path = tmp_path / "vits.py"
    path.write_text(CODE, encoding="utf-8")
    r = import_model(f"{path}:Unequal", input="image:3,16,16")
    assert set(r.opaque) and all("dropout and attention dropout rates differ" in why for why in r.opaque.values())
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(compiled_with_weights(r)(x), r.source.module.eval()(x), atol=1e-5, rtol=0)


def test_sizes_read_from_tensors_become_constants_and_the_batch_stays_free(tmp_path):
    path = tmp_path / "vits.py"
    path.write_text(CODE, encoding="utf-8")
    r = import_model(f"{path}:OwnCode", input="image:3,8,8")
    assert r.opaque == {}
    m = r.project.model
    assert _types(m) == ["Input", "Conv2d", "ImageToSequence", "Reshape", "Linear", "Output"]
    net, source = compiled_with_weights(r), r.source.module.eval()
    x = torch.randn(5, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(net(x), source(x), atol=1e-6, rtol=0)
