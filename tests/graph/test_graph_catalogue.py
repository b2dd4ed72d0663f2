"""The layer catalogue: every layer the issue lists, every parameter with a
type, a valid default, a range or choices, and one line of help."""
from __future__ import annotations

from studio.graph.layers import LAYERS, by_category, spec
from studio.graph.layers.io import INPUT_KINDS, LOSSES
from studio.graph.spec import CATEGORIES

ISSUE = {"Input", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d",
         "LayerNorm", "Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "Flatten", "Linear",
         "Reshape", "Embedding", "RNN", "LSTM", "GRU", "Add", "Concat", "Output"}


def test_catalogue_has_every_layer_of_the_issue():
    assert ISSUE <= set(LAYERS)
    assert set(INPUT_KINDS) == {"image", "sequence", "vector", "tokens"}
    assert set(LOSSES) == {"cross_entropy", "mse", "bce_with_logits", "l1"}
    assert spec("Output").param("task").choices == ("classification", "regression", "reconstruction")
    assert {"ConvTranspose2d", "Upsample", "GaussianLatent"} <= set(LAYERS)  # what decoders need
    for kind in ("RNN", "LSTM", "GRU"):
        names = {p.name for p in spec(kind).params}
        assert {"hidden_size", "num_layers", "bidirectional", "output"} <= names
        assert set(spec(kind).param("output").choices) == {"all steps", "last step"}
    for merge in ("Add", "Concat"):
        assert spec(merge).inputs[0].multi


def test_sizes_taken_from_the_wire_are_not_parameters():
    for type_, inferred in (("Conv2d", "in_channels"), ("Linear", "in_features"), ("LSTM", "input_size"),
                            ("Embedding", "num_embeddings"), ("BatchNorm2d", "num_features")):
        assert inferred not in {p.name for p in spec(type_).params}


def test_every_param_is_fully_described():
    for s in LAYERS.values():
        assert s.description and s.title and s.category in CATEGORIES
        for p in s.params:
            where = f"{s.type}.{p.name}"
            assert p.help and "\n" not in p.help and len(p.help) < 90, where
            assert p.check(p.default) == (tuple(p.default) if p.kind == "ints" else p.default), where
            if p.kind in ("int", "float", "ints", "size2"):
                assert p.minimum is not None and p.maximum is not None, where
            if p.kind == "choice":
                assert p.default in p.choices and len(p.choices) >= 2, where
            assert p.kind in ("int", "float", "bool", "choice", "ints", "text", "size2"), where


def test_by_category_lists_every_palette_layer_once():
    listed = [s.type for group in by_category().values() for s in group]
    assert sorted(listed) == sorted(t for t, s in LAYERS.items() if s.palette)
    assert "Opaque" in LAYERS and "Opaque" not in listed  # made by imports only


def test_every_category_is_one_record_with_an_icon_and_a_colour():
    import re
    from pathlib import Path

    from studio.graph.spec import CATEGORY
    icons = Path(__file__).resolve().parents[2] / "assets" / "icons"
    assert tuple(CATEGORY) == CATEGORIES
    for name, c in CATEGORY.items():
        assert c.name == name and (icons / f"{c.icon}.svg").exists(), c
        assert re.fullmatch(r"#[0-9a-f]{6}", c.colour), c
    for s in LAYERS.values():
        assert s.category in CATEGORY and (s.icon is None or s.icon == "" or (icons / f"{s.icon}.svg").exists())
