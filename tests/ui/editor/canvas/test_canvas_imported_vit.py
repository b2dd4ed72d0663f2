"""An imported Vision Transformer opens on the canvas as layers: patches (Conv2d, Image to
sequence), the class token, the encoder block (positions, dropout, one Transformer encoder
per EncoderBlock, LayerNorm), Select step and the head."""
from __future__ import annotations

import textwrap
from pathlib import Path

from tests.ui import testkit
from tests.ui.editor.canvas.test_canvas_blocks import card_point, double_click

ART = Path(__file__).resolve().parents[3] / "_artifacts"

CODE = textwrap.dedent('''
    from torchvision.models import VisionTransformer


    class TinyViT(VisionTransformer):
        def __init__(self):
            super().__init__(image_size=16, patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                             num_classes=3)
''')


def test_imported_vit_opens_as_layers(qtbot, tmp_path, monkeypatch):
    code = tmp_path / "tiny_vit.py"
    code.write_text(CODE, encoding="utf-8")
    w = testkit.open_imported(qtbot, tmp_path, monkeypatch, f"{code}:TinyViT", "image:3,16,16",
                                meta=False)
    view = w.canvas
    top = view.model()
    assert [top.type_of(n) for n in top.nodes()] == [
        "Input", "Conv2d", "ImageToSequence", "ClassToken", "Block", "SelectStep", "Linear", "Output"]
    assert top.shapes.out("class_token").dims == (17, 16) and top.shapes.out("select_step").dims == (16,)
    assert all(top.shapes.error(n) is None for n in top.nodes())
    ART.mkdir(exist_ok=True)
    testkit.select(w, "class_token")
    view.fit()
    w.grab().save(str(ART / "vit_top.png"))
    double_click(view, card_point(view, "encoder"))
    enc = view.model()
    assert [enc.type_of(n) for n in enc.nodes()][1:-1] == [
        "PositionalEncoding", "Dropout", "TransformerEncoder", "TransformerEncoder", "LayerNorm"]
    first = [n for n in enc.nodes() if enc.type_of(n) == "TransformerEncoder"][0]
    assert enc.params(first)["norm_first"] and enc.params(first)["eps"] == 1e-6
    testkit.select(w, first)
    view.fit()
    assert w.inspector.editors["eps"].widget is not None
    w.grab().save(str(ART / "vit_encoder.png"))
