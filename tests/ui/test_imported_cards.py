"""An imported network opens in the editor: opaque modules show as such on their
cards, and a frozen layer says so."""
from __future__ import annotations

import textwrap

import pytest

from tests.ui import testkit

CODE = textwrap.dedent('''
    import torch
    from torch import nn

    class Gate(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(c, 1, 1))

        def forward(self, x):
            return x * torch.sigmoid(self.scale)  # not one of Studio's layers

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.gate = Gate(8)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            return self.fc(torch.flatten(self.pool(self.gate(torch.relu(self.conv(x)))), 1))
''')


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch, size=(1400, 800))


def test_opaque_and_frozen_nodes_show_on_their_cards(window, tmp_path):
    from studio.importer import import_model, write
    (tmp_path / "user_net.py").write_text(CODE)
    r = import_model(f"{tmp_path / 'user_net.py'}:Net", input="image:3,32,32")
    r.project.model.set_param("conv", "frozen", True)
    write(r, tmp_path / "net.studio.json")
    assert window.open_path(tmp_path / "net.studio.json", confirm=False)
    window.canvas.fit()
    window.canvas.resetTransform()  # 1:1, on the opaque card
    window.canvas.centerOn(window.canvas.scene().nodes["gate"])
    window.grab().save("tests/ui/_artifacts/imported_opaque_card.png")
    m = window.project.model
    from studio.graph.layers import spec
    assert spec("Opaque").summary(m.params("gate")) == "Gate · 8 w"
    assert spec("Conv2d").summary(m.params("conv")).endswith("· frozen")
