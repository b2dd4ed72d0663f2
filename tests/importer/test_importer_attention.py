"""torch's Transformer encoders in the user's own code import as Studio's
TransformerEncoder layers, weights loaded by name, with the model's exact outputs."""
from __future__ import annotations

import textwrap

import pytest
import torch

from studio.importer import compiled_with_weights, import_model

CODE = textwrap.dedent('''
    import torch
    from torch import nn


    class TinyTransformer(nn.Module):
        def __init__(self, batch_first=True, final_norm=False):
            super().__init__()
            self.proj = nn.Linear(2, 8)
            layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, activation="gelu", norm_first=True,
                                               batch_first=batch_first)
            self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8) if final_norm else None,
                                                 enable_nested_tensor=False)
            self.last = nn.TransformerEncoderLayer(8, 4, 12, batch_first=True)
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            h = self.last(self.encoder(self.proj(x)))
            return self.fc(h.mean(1))
''')


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "tiny_transformer.py"
    path.write_text(CODE, encoding="utf-8")
    return path


def test_encoder_stack_and_lone_layer_import_with_exact_outputs(user_file):
    r = import_model(f"{user_file}:TinyTransformer", input="sequence:10,2")
    m = r.project.model
    assert r.opaque == {}
    encoders = {n: m.params(n) for n in m.nodes() if m.type_of(n) == "TransformerEncoder"}
    assert sorted((p["nhead"], p["dim_feedforward"], p["num_layers"], p["activation"], p["norm_first"],
                   p["dropout"]) for p in encoders.values()) == [(2, 16, 2, "gelu", True, 0.1),
                                                                 (4, 12, 1, "relu", False, 0.1)]
    assert sorted(m.type_of(n) for n in m.nodes()) == sorted(
        ["Input", "Linear", "TransformerEncoder", "TransformerEncoder", "Mean", "Linear", "Output"])
    assert m.shapes.totals()[0] == sum(p.numel() for p in r.source.module.parameters())
    net, source = compiled_with_weights(r).eval(), r.source.module.eval()
    x = torch.randn(3, 10, 2)
    with torch.no_grad():
        torch.testing.assert_close(net(x), source(x), atol=1e-6, rtol=0)


@pytest.mark.parametrize("kwargs,why", [({"batch_first": False}, "batch_first"),
                                        ({"final_norm": True}, "final norm")])
def test_encoders_studio_cannot_draw_stay_opaque_and_say_why(user_file, kwargs, why):
    r = import_model(f"{user_file}:TinyTransformer", input="sequence:10,2", kwargs=kwargs)
    assert list(r.opaque) == ["encoder"] and why in r.opaque["encoder"]
    assert "TransformerEncoder" in {r.project.model.type_of(n) for n in r.project.model.nodes()}  # the lone layer
    x = torch.randn(3, 10, 2)
    with torch.no_grad():
        got, want = compiled_with_weights(r).eval()(x), r.source.module.eval()(x)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
