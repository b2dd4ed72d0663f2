"""A sweep's results as plain rows for a table, curves and a cost scatter,
read from its optuna storage and the trials' run folders. No Qt here."""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from studio.sweep.study import SPACE_ATTR, STORAGE_NAME, open_storage

STATES = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.FAIL: "failed",
          TrialState.RUNNING: "running", TrialState.WAITING: "waiting"}


@dataclass
class TrialRow:
    number: int
    state: str
    params: dict
    value: float | None              # the optimised value (best epoch), or the last reported for pruned
    metric_name: str = ""
    cost: dict = field(default_factory=dict)   # params, macs
    seconds: float | None = None
    epochs: int | None = None
    folder: str = ""
    message: str = ""
    interrupted: bool = False

    @property
    def project_file(self) -> Path | None:
        p = Path(self.folder) / "project.studio.json" if self.folder else None
        return p if p is not None and p.exists() else None


@dataclass
class SweepResults:
    name: str
    maximize: bool
    rows: list[TrialRow]
    multi: bool = False
    cost: str = "none"               # the second objective, if any: "macs" | "params"

    def best(self) -> TrialRow | None:
        done = [r for r in self.rows if r.state == "complete" and r.value is not None]
        if not done:
            return None
        return (max if self.maximize else min)(done, key=lambda r: r.value)

    def keys(self) -> list[str]:
        out: list[str] = []
        for r in self.rows:
            out += [k for k in r.params if k not in out]
        return out


def exists(root: Path) -> bool:
    return (Path(root) / STORAGE_NAME).exists()


def load(root: Path, name: str) -> SweepResults | None:
    """The sweep `name` in `root`/sweep.db, or None if it has not started."""
    if not exists(root):
        return None
    storage = open_storage(root)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    rows = []
    for t in study.get_trials(deepcopy=False):
        run = t.user_attrs.get("run")
        run = run if isinstance(run, dict) else {}
        if t.state == TrialState.COMPLETE:
            value = t.values[0]
        else:
            value = t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else None
        rows.append(TrialRow(t.number, STATES.get(t.state, str(t.state)), dict(t.params), value,
                             run.get("metric_name", ""), {k: run[k] for k in ("params", "macs") if k in run},
                             run.get("seconds"), run.get("epochs"), run.get("folder", ""), run.get("error", ""),
                             bool(t.user_attrs.get("interrupted"))))
    try:
        cost = json.loads(study.user_attrs.get(SPACE_ATTR, "{}")).get("cost", "none")
    except ValueError:
        cost = "none"
    return SweepResults(name, maximize, rows, multi=len(study.directions) > 1, cost=cost)


def read_curve(folder: str, column: str = "val_metric") -> tuple[np.ndarray, np.ndarray]:
    """Epochs and one metrics.csv column of a trial's run folder (empty if none yet)."""
    path = Path(folder) / "metrics.csv"
    xs, ys = [], []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                try:
                    xs.append(float(row["epoch"]))
                    ys.append(float(row[column]) if row.get(column) else math.nan)
                except (KeyError, ValueError):
                    continue
    except OSError:
        pass
    return np.asarray(xs), np.asarray(ys)


def pareto_front(points: list[tuple[float, float]], maximize_first: bool) -> list[int]:
    """Indices of the points no other point beats on both value and cost (cost lower is better),
    in order of cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][1], -points[i][0] if maximize_first
                                                       else points[i][0]))
    front, best = [], None
    for i in order:
        v = points[i][0] if maximize_first else -points[i][0]
        if best is None or v > best:
            front.append(i)
            best = v
    return front


def importance(root: Path, name: str) -> dict[str, float]:
    """optuna's parameter importances for the first objective ({} with too few trials)."""
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(root))
        done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
        if len(done) < 2:
            return {}
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
        found = optuna.importance.get_param_importances(study, evaluator=evaluator,
                                                        target=lambda t: t.values[0])
        return {k: float(v) for k, v in found.items()}
    except (RuntimeError, ValueError, ZeroDivisionError):  # e.g. every trial used the same values
        return {}
