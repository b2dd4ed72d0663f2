"""The Project's own events, beside the graph's (studio.graph.events), which a
Project forwards to its listeners too. One small frozen record per kind."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

from studio.graph.events import GraphEvent


@dataclass(frozen=True)
class SettingChanged:
    """`project.<section>.<key>` went from `old` to `new`; section is "data" or "train"."""
    section: str
    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class InfoChanged:
    """The project's `name` or `description` changed."""
    key: str
    old: str
    new: str


@dataclass(frozen=True)
class SweepChanged:
    """The search space (`project.sweep`) changed: `key` is the dimension's key, or the
    sweep setting's name (strategy, trials, ...)."""
    key: str


SettingsEvent = Union[SettingChanged, InfoChanged]
ProjectEvent = Union[GraphEvent, SettingChanged, InfoChanged, SweepChanged]
Listener = Callable[[ProjectEvent], None]
