"""The layer catalogue: every layer type Studio knows, declared once in a module of this package."""
# Import order is palette order within a category.
from studio.graph.layers import (  # noqa: F401  (registers)
    io, conv, decode, pool, norm, activation, dense, latent, seq, attention, merge, extra, block, opaque)
from studio.graph.spec import CATEGORIES, CATEGORY, Category, LayerSpec, registry  # noqa: F401 - re-exported

LAYERS: dict[str, LayerSpec] = registry()


def spec(type_: str) -> LayerSpec:
    try:
        return LAYERS[type_]
    except KeyError:
        raise KeyError(f"unknown layer type {type_!r}") from None


def by_category() -> dict[str, list[LayerSpec]]:
    out: dict[str, list[LayerSpec]] = {c: [] for c in CATEGORIES}
    for s in LAYERS.values():
        if s.palette:
            out[s.category].append(s)
    return out
