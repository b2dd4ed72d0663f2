"""The layer catalogue: every layer type Studio knows, declared once in layers_*.py."""
from . import layers_conv, layers_dense, layers_io, layers_merge, layers_seq  # noqa: F401  (registers)
from .spec import CATEGORIES, LayerSpec, registry

LAYERS: dict[str, LayerSpec] = registry()


def spec(type_: str) -> LayerSpec:
    try:
        return LAYERS[type_]
    except KeyError:
        raise KeyError(f"unknown layer type {type_!r}") from None


def by_category() -> dict[str, list[LayerSpec]]:
    out: dict[str, list[LayerSpec]] = {c: [] for c in CATEGORIES}
    for s in LAYERS.values():
        out[s.category].append(s)
    return out
