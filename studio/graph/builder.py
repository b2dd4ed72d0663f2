"""Build graphs in code: a compact way for tests, samples and scripts to lay
out a chain of layers left to right."""
from __future__ import annotations

from typing import Iterable

from studio.graph.model import GraphModel

STEP_X = 260.0  # 160 px cards plus room for a wire label


def chain(model: GraphModel, layers: Iterable, start: str | None = None,
          x: float = 0.0, y: float = 0.0) -> list[str]:
    """Append `layers` ((type, params) pairs or bare type names) in a chain after
    node `start`; returns the new node ids."""
    ids: list[str] = []
    prev = start
    for i, item in enumerate(layers):
        type_, params = (item, {}) if isinstance(item, str) else item
        nid = model.add_node(type_, params, (x + i * STEP_X, y))
        if prev is not None:
            model.connect(prev, "out", nid, "in")
        ids.append(nid)
        prev = nid
    return ids


def sequential(layers: Iterable, input_params: dict | None = None,
               output_params: dict | None = None) -> tuple[GraphModel, list[str]]:
    """Input → layers → Output as a new model; returns it and all node ids."""
    m = GraphModel()
    ids = chain(m, [("Input", input_params or {}), *layers, ("Output", output_params or {})])
    return m, ids
