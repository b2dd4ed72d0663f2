"""The optional `sweep` section of a project file: which node parameters and
settings to search, over what range, and how (strategy, budget, objective).

Plain data and strict checks only; `studio.sweep` turns it into an optuna study.
It lives in the project layer because loading a project checks it against the
graph (the node exists, the value fits the parameter) before anything runs.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from studio.graph.blocks import resolve
from studio.graph.layers import LAYERS
from studio.settings import DataSettings, SettingsError, TrainSettings, check

STRATEGIES = ("tpe", "random", "grid")
OBJECTIVES = ("metric", "loss")     # validation accuracy (or MAE for regression), or validation loss
COSTS = ("none", "macs", "params")  # second objective, minimised
PRUNERS = ("none", "median")
KINDS = ("int", "float", "choice")
TARGETS = ("node", "training", "data")
MAX_CHOICES = 100


class SearchSpaceError(ValueError):
    """The sweep section is not usable; the message is one line naming the place."""


@dataclass
class Dimension:
    target: str                 # "node" | "training" | "data"
    param: str                  # parameter or setting name
    kind: str                   # "int" | "float" | "choice"
    node: str = ""              # node path when target == "node": its id, "block/id" inside a block
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: list = field(default_factory=list)

    @property
    def key(self) -> str:
        """The name optuna and the results table use: linear1.out_features, training.lr."""
        return f"{self.node}.{self.param}" if self.target == "node" else f"{self.target}.{self.param}"

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"target": self.target}
        if self.target == "node":
            d["node"] = self.node
        d.update(param=self.param, kind=self.kind)
        if self.kind == "choice":
            d["choices"] = list(self.choices)
        else:
            d.update(low=self.low, high=self.high, log=self.log)
        return d

    def describe(self) -> str:
        if self.kind == "choice":
            return "{" + ", ".join(_fmt(c) for c in self.choices) + "}"
        return f"{_fmt(self.low)} … {_fmt(self.high)}" + (" (log)" if self.log else "")


@dataclass
class SearchSpace:
    strategy: str = "tpe"
    trials: int = 20            # trial budget (0 = no count limit; a grid then runs every point)
    timeout: float = 0.0        # seconds for the whole sweep (0 = none)
    objective: str = "metric"
    cost: str = "none"
    pruner: str = "median"
    seed: int = 0
    grid_points: int = 4        # points per numeric range in a grid sweep
    dimensions: list[Dimension] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "dimensions"}
        d["dimensions"] = [dim.to_dict() for dim in self.dimensions]
        return d

    def find(self, key: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.key == key), None)


_SETTINGS = {"training": TrainSettings, "data": DataSettings}
# Settings that make no sense to search (paths, device) are refused.
_NOT_SEARCHABLE = {"root", "path", "target", "device", "epochs", "dataset", "task", "seed"}
_TOP = {f.name for f in dataclasses.fields(SearchSpace)}


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v).lower() if isinstance(v, bool) else str(v)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse(doc: Any, model, where: str = "sweep") -> SearchSpace:
    """Check a `sweep` object against the graph `model`; raise SearchSpaceError (one line)."""
    def need(cond, msg):
        if not cond:
            raise SearchSpaceError(f"{where}: {msg}")
    need(isinstance(doc, dict), "must be an object")
    for key in doc:
        need(key in _TOP, f'"{key}" is not a known sweep setting ({", ".join(sorted(_TOP))})')
    space = SearchSpace()
    for key, allowed in (("strategy", STRATEGIES), ("objective", OBJECTIVES), ("cost", COSTS),
                         ("pruner", PRUNERS)):
        if key in doc:
            need(doc[key] in allowed, f'"{key}" must be one of {", ".join(allowed)}, got {doc[key]!r}')
            setattr(space, key, doc[key])
    for key, lo, hi in (("trials", 0, 100000), ("seed", 0, 2**31 - 1), ("grid_points", 2, 100)):
        if key in doc:
            v = doc[key]
            need(isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi,
                 f'"{key}" must be a whole number from {lo} to {hi}, got {v!r}')
            setattr(space, key, v)
    if "timeout" in doc:
        need(_num(doc["timeout"]) and 0 <= doc["timeout"] <= 10**7,
             f'"timeout" must be seconds from 0 to 1e7, got {doc["timeout"]!r}')
        space.timeout = float(doc["timeout"])
    dims = doc.get("dimensions", [])
    need(isinstance(dims, list), '"dimensions" must be a list')
    seen: set[str] = set()
    for i, d in enumerate(dims):
        dim = parse_dimension(d, model, f"{where}.dimensions[{i}]")
        need(dim.key not in seen, f"dimensions[{i}]: {dim.key} is searched twice")
        seen.add(dim.key)
        space.dimensions.append(dim)
    return space


def parse_dimension(d: Any, model, where: str) -> Dimension:
    def need(cond, msg):
        if not cond:
            raise SearchSpaceError(f"{where}: {msg}")
    need(isinstance(d, dict), "must be an object")
    known = {"target", "node", "param", "kind", "low", "high", "log", "choices"}
    for key in d:
        need(key in known, f'"{key}" is not a dimension field ({", ".join(sorted(known))})')
    target = d.get("target", "node")
    need(target in TARGETS, f'"target" must be one of {", ".join(TARGETS)}, got {target!r}')
    param, kind = d.get("param"), d.get("kind")
    need(isinstance(param, str) and param, 'missing "param" (the parameter or setting to search)')
    need(kind in KINDS, f'"kind" must be one of {", ".join(KINDS)}, got {kind!r}')
    dim = Dimension(target, param, kind, log=d.get("log", False))
    need(isinstance(dim.log, bool), '"log" must be true or false')
    if target == "node":
        nid = d.get("node")
        need(isinstance(nid, str) and resolve(model, nid) is not None, f"there is no node {nid!r} to search")
        dim.node = nid
    where = f"{where} ({dim.key})"
    checker, value_kind = _checker(dim, model, where)
    if kind == "choice":
        choices = d.get("choices")
        need(isinstance(choices, list) and len(choices) >= 1 and len(choices) <= MAX_CHOICES,
             f'"choices" must be a list of 1 to {MAX_CHOICES} values')
        out = []
        for c in choices:
            need(c is None or isinstance(c, (bool, int, float, str)), f"choice {c!r} is not a plain value")
            c = checker(c)
            need(c not in out, f"choice {_fmt(c)} is listed twice")
            out.append(c)
        dim.choices = out
        need(not dim.log, '"log" is only for int and float ranges')
        return dim
    need(value_kind in ("int", "float"), f"{dim.param} is not a number; search it with a list of choices")
    need(not (kind == "float" and value_kind == "int"), f"{dim.param} is a whole number: use kind \"int\"")
    low, high = d.get("low"), d.get("high")
    need(_num(low) and _num(high), f'a range needs numbers "low" and "high", got {low!r} and {high!r}')
    if kind == "int":
        need(float(low).is_integer() and float(high).is_integer(),
             f"an int range needs whole-number bounds, got {_fmt(low)} and {_fmt(high)}")
        low, high = int(low), int(high)
    else:
        low, high = float(low), float(high)
    need(low < high, f"the range {_fmt(low)} … {_fmt(high)} is empty: low must be below high")
    need(not dim.log or low > 0, f"a log range needs bounds above 0, got low = {_fmt(low)}")
    dim.low, dim.high = checker(low), checker(high)
    return dim


def _checker(dim: Dimension, model, where: str):
    """A function that checks one value for the dimension's parameter, and the value's kind."""
    if dim.target == "node":
        inner, nid = resolve(model, dim.node)
        return _param_checker(dim, inner.type_of(nid), where)
    cls = _SETTINGS[dim.target]
    names = {f.name: f for f in dataclasses.fields(cls)}
    if dim.param not in names:
        raise SearchSpaceError(f"{where}: {dim.target} has no setting {dim.param!r}")
    if dim.param in _NOT_SEARCHABLE:
        raise SearchSpaceError(f"{where}: {dim.target}.{dim.param} cannot be searched")

    def check_setting(v):
        if isinstance(v, int) and not isinstance(v, bool) and type(names[dim.param].default) is float:
            v = float(v)
        try:
            return check(cls, dim.param, v, dim.target)
        except SettingsError as e:
            raise SearchSpaceError(f"{where}: {e}") from None
    return check_setting, type(names[dim.param].default).__name__


def _param_checker(dim: Dimension, type_: str, where: str):
    try:
        p = LAYERS[type_].param(dim.param)
    except KeyError:
        raise SearchSpaceError(f"{where}: {type_} has no parameter {dim.param!r}") from None
    if p.kind == "ints":
        raise SearchSpaceError(f"{where}: {dim.param} holds a list of sizes, which cannot be searched yet")

    def check_param(v):
        try:
            return p.check(v)
        except ValueError as e:
            raise SearchSpaceError(f"{where}: {e}") from None
    # a height×width size is searched as a square one: its values are ints (3 means 3×3)
    return check_param, {"bool": "bool", "choice": "str", "size2": "int"}.get(p.kind, p.kind)
