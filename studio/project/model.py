"""The Project: the graph, the dataset and training settings, and the name and
description, as one Qt-free model.

Every edit is a method here (graph edits are GraphModel's methods, reached as
`project.model`) and every change is announced as a typed event
(studio.project.events; graph events are forwarded). The Qt panels follow the
events, as the canvas follows the graph, and undo commands only call these
methods. `data` and `train` are readable dataclasses; code that builds a
project before anything listens (loading, the CLI) may fill them directly.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.graph.blocks import resolve, to_doc
from studio.graph.events import GraphEvent
from studio.graph.model import GraphModel
from studio.project.events import InfoChanged, Listener, ProjectEvent, SettingChanged, SweepChanged
from studio.project.search_space import Dimension, SearchSpace
from studio.settings import DataSettings, TrainSettings, check, to_dict

FORMAT = "studio.project"
VERSION = 2  # 2: a Block node holds its inside as "body" (studio.project.file migrates 1)
SECTIONS = ("data", "train")
INFO = ("name", "description")


class Project:
    def __init__(self, model: GraphModel | None = None, data: DataSettings | None = None,
                 train: TrainSettings | None = None, name: str = "Untitled", description: str = "",
                 path: Path | None = None, sweep: SearchSpace | None = None) -> None:
        self._model = model if model is not None else GraphModel()
        self.data = data if data is not None else DataSettings()
        self.train = train if train is not None else TrainSettings()
        self.name = name
        self.description = description
        self.path = path
        self.sweep = sweep  # optional search space for sweeps (None: the file has no "sweep")
        self._listeners: list[Listener] = []
        self._model.subscribe(self._forward)

    @property
    def model(self) -> GraphModel:
        """The graph; fixed for the project's life, so listeners stay attached."""
        return self._model

    # -- observers --------------------------------------------------------------------
    def subscribe(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def unsubscribe(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _emit(self, event: ProjectEvent) -> None:
        for fn in list(self._listeners):
            fn(event)

    def _forward(self, event: GraphEvent) -> None:
        if self._listeners:
            self._emit(event)

    # -- settings -----------------------------------------------------------------------
    def section(self, section: str) -> DataSettings | TrainSettings:
        if section not in SECTIONS:
            raise KeyError(f"no settings section {section!r}")
        return getattr(self, section)

    def setting(self, section: str, key: str) -> Any:
        return getattr(self.section(section), key)

    def set_setting(self, section: str, key: str, value: Any, where: str | None = None) -> Any:
        """Check and set one setting; raises SettingsError (naming `where`, default
        the section) when the value is not allowed. Returns the value as stored."""
        target = self.section(section)
        value = check(type(target), key, value, where or section)
        old = getattr(target, key)
        if value != old:
            setattr(target, key, value)
            self._emit(SettingChanged(section, key, old, value))
        return value

    def set_info(self, key: str, value: str) -> None:
        """Set the project's name or description."""
        if key not in INFO:
            raise KeyError(f"no project field {key!r}")
        if not isinstance(value, str):
            raise TypeError(f"{key} must be text")
        old = getattr(self, key)
        if value != old:
            setattr(self, key, value)
            self._emit(InfoChanged(key, old, value))

    # -- the search space ---------------------------------------------------------------
    def set_dimension(self, key: str, dim: Dimension | None) -> None:
        """Add or replace (same key) a search dimension, or with None stop searching `key`."""
        if self.sweep is None:
            self.sweep = SearchSpace()
        dims = self.sweep.dimensions
        i = next((n for n, d in enumerate(dims) if d.key == key), None)
        if dim is None and i is not None:
            del dims[i]
        elif dim is not None and i is None:
            dims.append(dim)
        elif dim is not None:
            dims[i] = dim
        self._emit(SweepChanged(key))

    def set_sweep_setting(self, key: str, value: Any) -> None:
        """One of the sweep's own settings (strategy, trials, timeout, objective, cost, pruner)."""
        if self.sweep is None:
            self.sweep = SearchSpace()
        if key == "dimensions" or not hasattr(self.sweep, key):
            raise KeyError(f"no sweep setting {key!r}")
        setattr(self.sweep, key, value)
        self._emit(SweepChanged(key))

    # -- the document -------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The project file's JSON document (studio.project.file reads it back)."""
        m = self._model
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "description": self.description,
            "graph": to_doc(m),
            "data": to_dict(self.data),
            "training": to_dict(self.train),
        } | self._sweep_dict()

    def _sweep_dict(self) -> dict:
        if self.sweep is None:
            return {}
        # A dimension on a node deleted since it was marked is dropped, not saved dangling.
        space = SearchSpace(**{**self.sweep.__dict__, "dimensions": [
            d for d in self.sweep.dimensions if d.target != "node" or resolve(self._model, d.node) is not None]})
        return {"sweep": space.to_dict()}

    def __repr__(self) -> str:
        return f"Project(name={self.name!r}, nodes={len(self._model)}, path={self.path!r})"
