"""The inspector: typed editors from the Param schema, undoable edits,
refused values, shapes, cost, problems and the graph overview."""
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QLineEdit, QSpinBox, QToolButton

from studio.graph.layers import LAYERS
from tests.ui import testkit
from studio.ui.editor.param_editors import SizeSpin, parse_ints


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch)


def _add(window, type_):
    nid = window.canvas.add_layer(type_)
    window.canvas.select_nodes([nid])
    return nid


SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cifar10_cnn.studio.json"
WIDGET = {"int": QSpinBox, "float": QDoubleSpinBox, "bool": QCheckBox, "choice": QComboBox,
          "ints": QLineEdit, "text": QLineEdit, "size2": SizeSpin}


def test_every_layer_gets_typed_editors_with_help(window):
    insp = window.inspector
    for type_, spec in sorted(LAYERS.items()):
        if type_ in ("BlockInput", "BlockOutput"):  # exist only inside a block (no parameters)
            continue
        nid = _add(window, type_)
        assert insp.node_id == nid
        assert set(insp.editors) == {p.name for p in spec.params}
        for p in spec.params:
            w = insp.editors[p.name].widget
            assert isinstance(w, WIDGET[p.kind]) and w.toolTip() == p.help, (type_, p.name)
            if p.kind == "text":  # an import's reference is shown, never edited; a block's name is
                assert w.isReadOnly() == (not p.editable), (type_, p.name)
                assert p.editable == (type_ == "Block"), (type_, p.name)
            if p.kind == "int" and p.maximum is not None:
                assert (w.minimum(), w.maximum()) == (p.minimum, min(p.maximum, 2**31 - 1))


def test_edit_is_one_undo_step_and_undo_updates_the_editor(window):
    conv = _add(window, "Conv2d")
    testkit.edit_param(window, conv, "out_channels", 48)
    m = window.project.model
    assert m.params(conv)["out_channels"] == 48
    assert window.undo_stack.undoText() == "Set out_channels"
    window.actions_.undo.trigger()
    assert m.params(conv)["out_channels"] == 32
    assert window.inspector.editors["out_channels"].widget.value() == 32
    testkit.edit_param(window, conv, "bias", False)
    testkit.edit_param(window, conv, "stride", 2)
    assert m.params(conv)["bias"] is False and m.params(conv)["stride"] == 2


def test_float_editor_shows_short_numbers(window):
    drop = _add(window, "LeakyReLU")
    w = window.inspector.editors["negative_slope"].widget
    assert w.text() == "0.01"
    testkit.edit_param(window, drop, "negative_slope", "0.2")
    assert window.project.model.params(drop)["negative_slope"] == pytest.approx(0.2)
    assert w.text() == "0.2"


def test_bad_ints_are_refused_with_a_visible_message(window):
    r = _add(window, "Reshape")
    before = window.project.model.params(r)["shape"]
    depth = window.undo_stack.count()
    testkit.edit_param(window, r, "shape", "-1, two, 3")
    err = window.inspector.errors["shape"]
    assert not err.isHidden() and "two" in err.text()
    assert window.project.model.params(r)["shape"] == before and window.undo_stack.count() == depth
    assert "Not changed" in window.statusBar().currentMessage()
    testkit.edit_param(window, r, "shape", "-1, 28, 28")
    assert window.project.model.params(r)["shape"] == (-1, 28, 28) and err.isHidden()
    assert parse_ints("4×7 x 2") == [4, 7, 2]


def test_input_shows_only_the_fields_of_its_kind(window):
    nid = _add(window, "Input")
    insp = window.inspector
    visible = lambda: {n for n, (lab, field) in insp.rows.items() if not field.isHidden()}  # noqa: E731
    assert visible() == {"kind", "channels", "height", "width"}
    testkit.edit_param(window, nid, "kind", "sequence")
    assert visible() == {"kind", "length", "features"}
    assert insp._dyn["Out"].text().startswith("T×")
    text = " ".join(lab.text() for lab in insp.widget().findChildren(type(insp._dyn["Out"])))
    assert "dataset sets this shape" in text


def test_shapes_cost_and_problems(window):
    window.open_path(SAMPLE)
    insp = window.inspector
    window.canvas.select_nodes(["linear1"])
    window.inspector.refresh()
    assert insp._dyn["In"].text() == "1024" and insp._dyn["Out"].text() == "64"
    assert insp._dyn["Parameters"].text() == "65,600" and insp._dyn["problems"].isHidden()
    testkit.edit_param(window, "conv2d3", "kernel_size", 9)  # larger than its 6×6 input
    insp.refresh()
    assert not insp._dyn["problems"].isHidden() and "kernel" in insp._dyn["problems"].text()


def test_overview_when_nothing_is_selected(window):
    window.open_path(SAMPLE)
    window.canvas.select_nodes([])
    insp = window.inspector
    insp.refresh()
    assert insp.node_id is None
    assert insp._dyn["Layers"].text() == "14" and insp._dyn["Problems"].text() == "0"
    assert insp._dyn["Parameters"].text() == "123 k"
    window.canvas.select_nodes(["relu1", "relu2"])
    assert insp.node_id is None and "2 layers selected" in insp.widget().findChildren(
        type(insp._dyn["Layers"]))[0].text()


def test_locked_inspector_refuses_edits(window):
    nid = _add(window, "Linear")
    window.set_editing_locked(True)
    assert not window.inspector.editors["out_features"].widget.isEnabled()
    window.set_editing_locked(False)
    testkit.edit_param(window, nid, "out_features", 7)
    assert window.project.model.params(nid)["out_features"] == 7



def test_a_height_by_width_kernel_is_typed_checked_and_undone(window):
    conv = _add(window, "Conv2d")
    m, insp = window.project.model, window.inspector
    w, err = insp.editors["kernel_size"].widget, insp.errors["kernel_size"]
    assert w.text() == "3"
    testkit.edit_param(window, conv, "kernel_size", "1x7")
    assert m.params(conv)["kernel_size"] == (1, 7) and w.text() == "1×7" and err.isHidden()
    assert window.undo_stack.undoText() == "Set kernel_size"
    marker = w.parentWidget().findChild(QToolButton)  # a sweep searches it as a square size around 7
    marker.click()
    assert (marker.dialog.low.text(), marker.dialog.high.text()) == ("1", "28")
    marker.dialog.reject()
    depth = window.undo_stack.count()
    testkit.edit_param(window, conv, "kernel_size", "abc")
    assert not err.isHidden() and "'abc' is not a whole number" in err.text() and "1×7" in err.text()
    assert m.params(conv)["kernel_size"] == (1, 7) and window.undo_stack.count() == depth
    assert "Not changed" in window.statusBar().currentMessage()
    testkit.edit_param(window, conv, "kernel_size", "1x99")  # each side is range-checked
    assert "at most 64" in err.text() and m.params(conv)["kernel_size"] == (1, 7)
    testkit.edit_param(window, conv, "padding", "0,3")
    assert m.params(conv)["padding"] == (0, 3) and insp.editors["padding"].widget.text() == "0×3"
    window.actions_.undo.trigger()
    window.actions_.undo.trigger()
    assert m.params(conv)["kernel_size"] == 3 and m.params(conv)["padding"] == 0
    assert w.text() == "3" and insp.editors["padding"].widget.text() == "0"
    testkit.edit_param(window, conv, "kernel_size", "5 × 5")  # a square pair is the plain size
    assert m.params(conv)["kernel_size"] == 5 and w.text() == "5"


def test_a_size_steps_with_the_arrow_keys_like_other_number_fields(window, qtbot):
    conv = _add(window, "Conv2d")
    m, w = window.project.model, window.inspector.editors["kernel_size"].widget
    w.setFocus()
    qtbot.keyClick(w, Qt.Key.Key_Up)  # a real key press on the field: one undoable step
    assert m.params(conv)["kernel_size"] == 4 and w.text() == "4"
    assert window.undo_stack.undoText() == "Set kernel_size"
    testkit.edit_param(window, conv, "kernel_size", "1x7")
    qtbot.keyClick(w, Qt.Key.Key_Up)  # a pair grows on both sides
    assert m.params(conv)["kernel_size"] == (2, 8) and w.text() == "2×8"
    window.actions_.undo.trigger()  # edits of one field in a row are one undo step
    assert m.params(conv)["kernel_size"] == 3 and w.text() == "3"
    testkit.edit_param(window, conv, "kernel_size", "1x7")
    assert not w.stepEnabled() & w.StepEnabledFlag.StepDownEnabled  # 1 is the smallest side
    depth = window.undo_stack.count()
    qtbot.keyClick(w, Qt.Key.Key_Down)
    assert m.params(conv)["kernel_size"] == (1, 7) and window.undo_stack.count() == depth


def test_screenshot_of_a_1x7_conv_in_the_inspector(window):
    window.open_path(SAMPLE)
    testkit.edit_param(window, "conv2d1", "kernel_size", "1×7")
    testkit.edit_param(window, "conv2d1", "padding", "0, 3")
    window.inspector.refresh()
    assert window.inspector._dyn["Out"].text() == "32×32×32"
    assert window.canvas.node_item("conv2d1")._summary == "32 · 1×7 p0×3"
    window.canvas.centerOn(window.canvas.node_item("conv2d1"))
    out = Path(__file__).resolve().parents[1] / "_artifacts"
    out.mkdir(exist_ok=True)
    window.inspector.grab().save(str(out / "inspector_conv2d_1x7.png"))
    window.grab().save(str(out / "window_conv2d_1x7.png"))


def test_a_long_layer_path_does_not_widen_the_inspector(window):
    """An imported layer's id can be a long module path; the inspector stays as wide as its
    dock (the id is cut in the middle, whole on its tooltip)."""
    nid = "encoder_layers_encoder_layer_11_self_attention_out_proj"
    window.project.model.add_node("Linear", {}, (0, 0), nid=nid)
    window.canvas.select_nodes([nid])
    insp = window.inspector
    assert insp.node_id == nid
    testkit._process()
    assert insp.widget().minimumSizeHint().width() <= insp.viewport().width()
    (label,) = [lab for lab in insp.findChildren(QLabel) if lab.toolTip() == f"{nid} · Dense & Shape"]
    assert "…" in label.text() and label.text().startswith("encoder_")
