"""File ▸ Import Model…: the gallery, the save location, the consent to run a
user's file, and the imported network opening in the editor."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from studio.ui.shell import import_dialog
from studio.ui.shell.import_dialog import ImportDialog
from tests.ui import testkit


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch)


def test_gallery_lists_torchvision_with_sizes(qtbot):
    dlg = ImportDialog()
    qtbot.addWidget(dlg)
    names = [dlg.table.item(r, 0).text() for r in range(dlg.table.rowCount())]
    assert {"resnet18", "mobilenet_v3_small", "vit_b_16"} <= set(names) and len(names) >= 80
    r = names.index("resnet18")
    assert dlg.table.item(r, 1).text() == "11.7 M"
    dlg.filter.setText("mobilenet")
    visible = [n for i, n in enumerate(names) if not dlg.table.isRowHidden(i)]
    assert visible and all("mobilenet" in n for n in visible)
    dlg.select("mobilenet_v3_small")
    assert dlg.spec() == "torchvision:mobilenet_v3_small"
    assert "flat" not in dlg.options()  # blocks by default
    dlg.blocks.setChecked(False)
    assert dlg.options()["flat"] is True
    dlg.blocks.setChecked(True)
    dlg.show()
    dlg.grab().save("tests/ui/_artifacts/import_dialog.png")


def test_import_opens_the_network_with_its_weights(window, tmp_path, monkeypatch):
    target = tmp_path / "r18.studio.json"

    def choose(dlg):
        dlg.select("resnet18")
        dlg.classes.setValue(10)
        dlg.size.setValue(32)
        return 1
    monkeypatch.setattr(ImportDialog, "exec", choose)
    monkeypatch.setattr(import_dialog.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.import_model()
    m = window.project.model
    assert len(m) == 13 and m.type_of("layer1") == "Block" and window.project.path == target
    assert (tmp_path / "r18.weights.safetensors").exists()
    assert m.shapes.totals()[0] == 11_181_642  # resnet18 with a 10-class head


def test_a_python_file_is_imported_only_after_consent(window, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    user = tmp_path / "net.py"
    user.write_text(f"open({str(marker)!r}, 'w').close()\nimport torch\nclass Net(torch.nn.Linear):\n"
                    "    def __init__(self):\n        super().__init__(4, 2)\n")

    def choose(dlg):
        dlg.file_spec = f"{user}:Net"
        return 1
    monkeypatch.setattr(ImportDialog, "exec", choose)
    monkeypatch.setattr(import_dialog.QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert not window.import_model()
    assert not marker.exists()


@pytest.mark.parametrize("answer", ["Yes", "No"])
def test_opening_a_project_with_user_code_asks_first(window, tmp_path, monkeypatch, answer):
    from studio.graph import opaque
    from studio.importer import import_model, write
    user = tmp_path / "gate.py"
    user.write_text("import torch\nclass Gate(torch.nn.Module):\n    def __init__(self):\n"
                    "        super().__init__()\n        self.s = torch.nn.Parameter(torch.ones(4))\n"
                    "    def forward(self, x):\n        return x * self.s.exp()\n"
                    "class Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                    "        self.gate = Gate()\n    def forward(self, x):\n        return self.gate(x)\n")
    write(import_model(f"{user}:Net", input="vector:4"), tmp_path / "g.studio.json")
    opaque._trusted.clear()
    opaque._roots.clear()
    asked = []

    def question(*a, **k):
        asked.append(a[2])
        return getattr(QMessageBox.StandardButton, answer)
    monkeypatch.setattr(import_dialog.QMessageBox, "question", question)
    assert window.open_path(tmp_path / "g.studio.json", confirm=False)
    assert len(asked) == 1 and str(user) in asked[0]
    assert opaque.is_trusted(user) == (answer == "Yes")
    opaque._trusted.clear()


# A user's .py file whose block holds a layer Studio lacks (Gate): that layer stays user code.
GATED_NET = ("import torch\nclass Gate(torch.nn.Module):\n    def __init__(self):\n"
             "        super().__init__()\n        self.s = torch.nn.Parameter(torch.ones(4))\n"
             "    def forward(self, x):\n        return x * self.s.exp()\n"
             "class Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
             "        self.trunk = torch.nn.Sequential(torch.nn.Linear(4, 4), Gate(), torch.nn.ReLU())\n"
             "        self.fc = torch.nn.Linear(4, 2)\n"
             "    def forward(self, x):\n        return self.fc(self.trunk(x))\n")


def test_user_code_inside_a_block_is_asked_for_too(window, tmp_path, monkeypatch):
    from studio.graph import opaque
    from studio.importer import import_model, write
    user = tmp_path / "inner.py"
    user.write_text(GATED_NET)
    r = import_model(f"{user}:Net", input="vector:4")
    assert r.project.model.type_of("trunk") == "Block" and list(r.opaque) == ["trunk.trunk_1"]
    write(r, tmp_path / "g.studio.json")
    opaque._trusted.clear()
    opaque._roots.clear()
    asked = []
    monkeypatch.setattr(import_dialog.QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    assert window.open_path(tmp_path / "g.studio.json", confirm=False)
    assert len(asked) == 1 and str(user) in asked[0]
    opaque._trusted.clear()


def test_user_code_arriving_after_opening_is_asked_for_at_train(window, tmp_path, monkeypatch):
    """A block holding a module from the user's .py file, pasted (or dropped from the
    library) into a project opened without any: Train asks before that code can run."""
    from studio.graph import opaque
    from studio.graph.blocks import to_doc
    from studio.importer import import_model
    from studio.ui.editor.canvas import clipboard
    user = tmp_path / "inner2.py"
    user.write_text(GATED_NET)
    src = import_model(f"{user}:Net", input="vector:4").project.model
    opaque._trusted.clear()
    opaque._roots.clear()
    asked = []
    monkeypatch.setattr(import_dialog.QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    assert not asked
    doc = to_doc(src)
    clipboard.put({"nodes": [n for n in doc["nodes"] if n["id"] == "trunk"], "edges": []})
    window.canvas.paste()
    assert any(window.project.model.type_of(n) == "Block" for n in window.project.model.nodes())
    window.run_panel.train()  # not valid (the pasted block is not wired): asks nothing yet
    assert not asked
    monkeypatch.setattr("studio.ui.run.panel.validate", lambda model: [])

    class Reached(Exception):
        """Train got past the question to the cost check: stop there, no run needed."""

    def reached(check):
        raise Reached
    monkeypatch.setattr(window.run_panel, "_show_precheck", reached)
    with pytest.raises(Reached):
        window.run_panel.train()
    assert len(asked) == 1 and str(user) in asked[0]
    opaque._trusted.clear()
    window.run_panel.shutdown(10000)
