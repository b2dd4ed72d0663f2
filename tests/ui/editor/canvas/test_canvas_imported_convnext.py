"""An imported ConvNeXt's CNBlock opens on the canvas as layers: the block's branch, its
layer scale, stochastic depth and the residual add; inside the branch the depthwise
convolution, the two Permutes and the per-position Linears."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from tests.ui import testkit
from tests.ui.editor.canvas.test_canvas_blocks import card_point, double_click

ART = Path(__file__).resolve().parents[3] / "_artifacts"


def test_imported_cnblock_opens_as_layers(qtbot, tmp_path, monkeypatch):
    w = testkit.open_imported(qtbot, tmp_path, monkeypatch, "torchvision:convnext_tiny", "image:3,64,64")
    view = w.canvas
    for block in ("features", "features_1", "features_1_0"):
        double_click(view, card_point(view, block))
    cn = view.model()
    assert sorted(cn.type_of(n) for n in cn.nodes()) == [
        "Add", "Block", "BlockInput", "BlockOutput", "LayerScale", "StochasticDepth"]
    ART.mkdir(exist_ok=True)
    w.grab().save(str(ART / "convnext_cnblock.png"))
    double_click(view, card_point(view, "block"))
    branch = view.model()
    assert [branch.type_of(n) for n in branch.nodes()][1:-1] == [
        "Conv2d", "Permute", "LayerNorm", "Linear", "GELU", "Linear", "Permute"]
    assert branch.shapes.out("block_1").dims == (16, 16, 96)  # H×W×C for the LayerNorm and Linears
    w.grab().save(str(ART / "convnext_cnblock_branch.png"))
    testkit.select(w, "block_3")  # the first Linear: its per-position choice in the inspector
    assert w.inspector.editors["per_position"].widget.isChecked()
    w.grab().save(str(ART / "convnext_linear_inspector.png"))
    testkit.edit_param(w, "block_1", "dims", [1, 0, 2, 3])  # through the inspector: one undo step
    assert "must keep the batch (dimension 0) first" in branch.shapes.error("block_1")
    w.grab().save(str(ART / "convnext_permute_error.png"))
    w.undo_stack.undo()
    QApplication.processEvents()
    assert branch.shapes.error("block_1") is None and branch.params("block_1")["dims"] == (0, 2, 3, 1)
