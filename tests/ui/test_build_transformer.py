"""A small Transformer built only through the UI (palette drops, wire drags, inspector
edits) matches the waves_transformer sample; the wires show T×F shapes, and a head
count that does not divide the features is explained in the inspector."""
from pathlib import Path

import pytest

from studio.project import file as projects
from tests.ui import testkit

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "waves_transformer.studio.json"
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"

LAYERS = [
    ("Input", {"kind": "sequence", "length": 32, "features": 1}),
    ("Linear", {"out_features": 16}),
    ("PositionalEncoding", {"max_len": 32}),
    ("TransformerEncoder", {"nhead": 4, "dim_feedforward": 32, "num_layers": 1, "dropout": 0.0}),
    ("Mean", {"dims": [1]}),
    ("Linear", {"out_features": 4}),
    ("Output", {}),
]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch)


def _label(window, src: str) -> str:
    (edge,) = [e for e in window.project.model.edges() if e.src == src]
    return window.canvas.wire_item(edge.id).label.text


def test_build_the_waves_transformer_through_the_ui(window):
    ids = testkit.build_chain(window, LAYERS)
    model = window.project.model
    assert testkit.structure(model) == testkit.structure(projects.load(SAMPLE).model)
    assert window.errors == []
    labels = [_label(window, nid) for nid in ids[:-1]]
    assert labels == ["T×1", "T×16", "T×16", "T×16", "16", "4"]
    testkit.select(window, ids[3])
    dyn = window.inspector._dyn
    assert dyn["In"].text() == "T×16 (T = 32)" and dyn["Out"].text() == "T×16 (T = 32)"
    weights = sum(p.numel() for p in __import__("torch").nn.TransformerEncoderLayer(
        16, 4, 32, batch_first=True).parameters())
    assert dyn["Parameters"].text() == f"{weights:,}"


def test_heads_that_do_not_divide_the_features_say_which_would(window):
    ids = testkit.build_chain(window, LAYERS[:2] + LAYERS[3:4])
    testkit.edit_param(window, ids[2], "nhead", 3)
    window.inspector.refresh()
    text = window.inspector._dyn["problems"].text()
    assert "3 heads" in text and "16" in text and "1, 2, 4, 8, 16" in text
    assert window.project.model.shapes.error(ids[2])


def test_screenshot_of_the_sample_in_the_main_window(window):
    assert window.open_path(SAMPLE, as_copy=True)
    window.canvas.scene().flush_labels()
    testkit.select(window, "transformerencoder1")
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / "waves_transformer_window.png"))


def test_palette_search_finds_the_attention_section(window):
    pal = window.palette
    pal.search.setText("attention")
    assert pal.visible_types() == ["TransformerEncoder", "PositionalEncoding"]
    ARTIFACTS.mkdir(exist_ok=True)
    assert pal.grab().save(str(ARTIFACTS / "palette_attention.png"))
