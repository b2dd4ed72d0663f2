"""Issue 13's acceptance in the app: an imported resnet18 opens with its blocks
collapsed and fitted to the window; going inside a block and editing a layer
re-infers the shapes outside, and undo from the top level reaches inside."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from tests.ui import testkit
from tests.ui.editor.canvas.test_canvas_blocks import card_point, double_click

ART = Path(__file__).resolve().parents[3] / "_artifacts"


def test_imported_resnet18_opens_collapsed_and_edits_inside(qtbot, tmp_path, monkeypatch):
    w = testkit.open_imported(qtbot, tmp_path, monkeypatch, "torchvision:resnet18", "image:3,64,64")
    top = w.project.model
    assert len(top) <= 15 and len(top.of_type("Block")) == 4  # layer1..layer4, collapsed
    view = w.canvas
    rect = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(rect.contains(view.node_scene_rect(n)) for n in top.nodes())  # opened fitted
    ART.mkdir(exist_ok=True)
    w.grab().save(str(ART / "blocks_resnet18_opened.png"))

    before = top.shapes.out("layer2")
    weights = top.shapes.info["layer2"].weights
    double_click(view, card_point(view, "layer2"))
    inside = view.model()
    assert inside is top.body("layer2")
    first = inside.nodes()[1] if inside.type_of(inside.nodes()[0]) == "BlockInput" else inside.nodes()[0]
    assert inside.type_of(first) == "Block"
    double_click(view, card_point(view, first))
    body = view.model()
    conv = next(n for n in body.nodes() if body.type_of(n) == "Conv2d")
    w.grab().save(str(ART / "blocks_resnet18_inside.png"))
    testkit.edit_param(w, conv, "out_channels", 96)  # through the inspector: one undo step
    assert top.shapes.info["layer2"].weights != weights  # re-inferred outside (the next conv widens too)
    view.go_to_level(0)  # back at the top, then undo the edit made two levels down
    assert view.model() is top
    w.undo_stack.undo()
    QApplication.processEvents()
    assert body.params(conv)["out_channels"] != 96
    assert top.shapes.out("layer2") == before and top.shapes.info["layer2"].weights == weights
