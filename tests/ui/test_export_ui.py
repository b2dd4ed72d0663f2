"""File ▸ Export after a run: disabled until trained, then safetensors and ONNX
written through the menu (file dialog patched), verified and reloaded."""
import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QFileDialog

from studio.graph.compile import compile_graph
from tests.ui import run_testkit
from tests.ui import testkit


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch)
    assert w.open_path(run_testkit.shapes_project_file(tmp_path / "proj"), confirm=False)
    yield w
    w.run_panel.shutdown(10000)
    w.undo_stack.clear()  # see test_run_panel: main_actions' undo lambdas outlive the stack


def test_export_from_menu_and_reload(window, qtbot, tmp_path, monkeypatch):
    panel, ex = window.run_panel, window.run_panel.export_actions
    menu_actions = window.menu_export.actions()
    assert len(menu_actions) == 6
    assert not any(a.isEnabled() for a in menu_actions)
    assert "Train the model first" in menu_actions[0].toolTip()

    run_testkit.quick(panel, samples=300, epochs=1)
    with qtbot.waitSignal(panel.run_finished, timeout=90000) as blocker:
        panel.train()
    outcome = blocker.args[0]
    assert outcome.status == "finished"
    assert all(a.isEnabled() for a in menu_actions)

    failures = []
    monkeypatch.setattr(ex, "show_failure", failures.append)
    x = torch.rand(3, 3, 32, 32)  # images as ToTensor gives them; the weights file wants them normalized
    ds = outcome.dataset
    normalized = (x - torch.tensor(ds.mean).view(1, 3, 1, 1)) / torch.tensor(ds.std).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = outcome.model(normalized)

    for fmt in ("safetensors", "onnx"):
        target = tmp_path / f"exported{'.safetensors' if fmt == 'safetensors' else '.onnx'}"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, t=target, **k: (str(t), ""))
        with qtbot.waitSignal(ex.export_finished, timeout=120000) as done:
            ex.actions[fmt].trigger()
        result, error = done.args
        assert error == "" and result.verified, (error, result)
        assert target.exists()
        assert str(target) in window.statusBar().currentMessage()
        assert "same top-1 as the app on 100% of 60 validation examples" in window.statusBar().currentMessage()

        if fmt == "safetensors":
            from safetensors.torch import load_file
            model = compile_graph(outcome.project.model)
            model.load_state_dict(load_file(str(target)))
            with torch.no_grad():
                got = model.eval()(normalized).numpy()
        else:
            import onnx
            from onnx.reference import ReferenceEvaluator
            proto = onnx.load(str(target))
            sess = ReferenceEvaluator(proto)
            got = sess.run(None, {proto.graph.input[0].name: x.numpy()})[0]
            props = {m.key: m.value for m in proto.metadata_props}
            assert '"circle"' in props["studio.classes"]
        np.testing.assert_allclose(got, expected.numpy(), atol=1e-4)
    assert failures == []


def test_a_run_saved_on_disk_can_be_exported_after_reopening(window, qtbot, tmp_path, monkeypatch):
    """Reopen the project: its latest saved run is the export source, with its labels."""
    panel, ex = window.run_panel, window.run_panel.export_actions
    run_testkit.quick(panel, samples=200, epochs=1)
    with qtbot.waitSignal(panel.run_finished, timeout=90000):
        panel.train()
    path = window.project.path
    assert window.open_path(run_testkit.shapes_project_file(tmp_path / "other"), confirm=False)
    assert not any(a.isEnabled() for a in window.menu_export.actions())  # no runs there
    assert window.open_path(path, confirm=False)
    actions = window.menu_export.actions()
    assert all(a.isEnabled() for a in actions)
    assert "saved run run-001" in actions[0].toolTip()
    failures = []
    monkeypatch.setattr(ex, "show_failure", failures.append)
    target = tmp_path / "from_disk.onnx"
    with qtbot.waitSignal(ex.export_finished, timeout=120000) as done:
        ex.export("onnx", str(target))
    result, error = done.args
    assert error == "" and result.verified and failures == []
    assert result.info.classes == ["circle", "square", "triangle", "cross"] and result.info.mean
    assert result.parity is not None and result.parity.top1_agreement == 1.0
    assert (path.parent / "shapes_cnn.runs" / "run-001" / "exports" / "parity.json").exists()


def test_selecting_a_saved_run_makes_it_the_export_source(window, qtbot, tmp_path):
    import json
    import shutil
    panel = window.run_panel
    run_testkit.quick(panel, samples=200, epochs=1)
    with qtbot.waitSignal(panel.run_finished, timeout=90000):
        panel.train()
    path = window.project.path
    runs = path.parent / "shapes_cnn.runs"
    shutil.copytree(runs / "run-001", runs / "run-002")  # a second run, as if trained earlier
    doc = json.loads((runs / "run-001.json").read_text())
    (runs / "run-002.json").write_text(json.dumps(dict(doc, number=2)))
    assert window.open_path(path, confirm=False)
    first = window.menu_export.actions()[0]
    assert "saved run run-002" in first.toolTip()  # the latest, until another is chosen
    panel.run_list.setCurrentRow(0)
    assert "saved run run-001" in first.toolTip()
