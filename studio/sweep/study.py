"""The optuna study behind a sweep: its SQLite storage in the runs folder,
sampler and pruner for the chosen strategy, the trial budget shared by every
process, and recovery of trials whose process was killed.

optuna does all the searching; this module only configures it.
"""
from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from studio.graph.layers.io import TASK_OF_LOSS
from studio.project.search_space import Dimension, SearchSpace

STORAGE_NAME = "sweep.db"
DEFAULT_STUDY = "sweep"
SPACE_ATTR = "studio_space"
# Heartbeats let another machine sharing the storage fail a trial whose process vanished;
# on one machine a dead process is found at once by its pid (recover_stale).
HEARTBEAT_S, GRACE_S = 60, 300


class SweepError(ValueError):
    """The sweep cannot start or continue; one line for the user."""
    exit_code = 2


def runs_root(project_path: Path) -> Path:
    """`<project>.runs/` beside the project file, as the app's run history uses."""
    p = Path(project_path)
    base = p.name[: -len(".studio.json")] if p.name.endswith(".studio.json") else p.stem
    return p.with_name(base + ".runs")


def storage_url(root: Path) -> str:
    return f"sqlite:///{Path(root).resolve() / STORAGE_NAME}"


def _connect(path: Path):
    def connect():
        # A long busy timeout: several processes write trial results into one SQLite file.
        con = sqlite3.connect(str(path), timeout=120, check_same_thread=False)
        # WAL lets readers and one writer overlap; synchronous=NORMAL syncs at checkpoints
        # instead of every commit (each fsync cost ~20 ms here, 20 commits a trial).
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        return con
    return connect


_OPEN: dict[Path, optuna.storages.RDBStorage] = {}


def open_storage(root: Path) -> optuna.storages.RDBStorage:
    """The storage of `root`, one per file in a process: opening one loads alembic's
    migration scripts (module code), which should run once, not in every thread and trial."""
    Path(root).mkdir(parents=True, exist_ok=True)
    path = Path(root).resolve() / STORAGE_NAME
    if path in _OPEN and path.exists():
        return _OPEN[path]
    _OPEN[path] = _new_storage(root, path)
    return _OPEN[path]


def _new_storage(root: Path, path: Path) -> optuna.storages.RDBStorage:
    with warnings.catch_warnings():  # heartbeats are marked experimental in optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            storage_url(root), engine_kwargs={"creator": _connect(path)},
            heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S,
            # A trial whose machine went silent is failed by optuna and queued once more.
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1))


def metric_direction(project) -> str:
    """Accuracy goes up; MAE (regression) goes down."""
    outs = [n for n in project.model.nodes() if project.model.type_of(n) == "Output"]
    loss = project.model.params(outs[0])["loss"] if outs else "cross_entropy"
    return "maximize" if TASK_OF_LOSS.get(loss) == "classification" else "minimize"


def directions(project, space: SearchSpace) -> list[str]:
    first = metric_direction(project) if space.objective == "metric" else "minimize"
    return [first] if space.cost == "none" else [first, "minimize"]


def grid_values(dim: Dimension, points: int) -> list:
    if dim.kind == "choice":
        return list(dim.choices)
    lo, hi = dim.low, dim.high
    raw = np.geomspace(lo, hi, points) if dim.log else np.linspace(lo, hi, points)
    if dim.kind == "int":
        return sorted({int(round(v)) for v in raw})
    return [float(v) for v in raw]


def grid_size(space: SearchSpace) -> int:
    return math.prod(len(grid_values(d, space.grid_points)) for d in space.dimensions)


def make_sampler(space: SearchSpace, worker: int = 0) -> optuna.samplers.BaseSampler:
    seed = space.seed + 1000 * worker  # parallel workers must not draw the same sequence
    if space.strategy == "grid":
        grid = {d.key: grid_values(d, space.grid_points) for d in space.dimensions}
        return optuna.samplers.GridSampler(grid, seed=seed)
    if space.strategy == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    startup = max(2, min(10, space.trials // 3 if space.trials else 10))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, constant_liar=True,
                                      multivariate=True)


def make_pruner(space: SearchSpace) -> optuna.pruners.BasePruner:
    if space.pruner == "none" or space.cost != "none":  # optuna prunes single-objective studies only
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)


def open_study(root: Path, name: str, project, space: SearchSpace, worker: int = 0,
               create: bool = True) -> optuna.Study:
    """Create the study, or load it to resume; refuse one whose search space has changed."""
    storage = open_storage(root)
    text = json.dumps(space_signature(space), sort_keys=True)
    kwargs = dict(study_name=name, storage=storage, sampler=make_sampler(space, worker),
                  pruner=make_pruner(space))
    existing = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if name in existing:
        study = optuna.load_study(**kwargs)
        if study.user_attrs.get(SPACE_ATTR, text) != text:
            raise SweepError(f"the sweep {name!r} in {Path(root) / STORAGE_NAME} searched a different space "
                             f"or objective; give a new sweep name to start another")
        if len(study.directions) != len(directions(project, space)):
            raise SweepError(f"the sweep {name!r} has a different number of objectives; give a new name")
        return study
    if not create:
        raise SweepError(f"there is no sweep {name!r} in {Path(root) / STORAGE_NAME}")
    study = optuna.create_study(directions=directions(project, space), load_if_exists=True, **kwargs)
    study.set_user_attr(SPACE_ATTR, text)
    study.set_user_attr("metric_direction", metric_direction(project))
    return study


def space_signature(space: SearchSpace) -> dict:
    """What must not change between a sweep and its resumption (the budget may)."""
    return {"dimensions": [d.to_dict() for d in space.dimensions], "objective": space.objective,
            "cost": space.cost, "strategy": space.strategy}


def study_names(root: Path) -> list[str]:
    """Sweeps stored in `root`/sweep.db, oldest first ([] when there is none)."""
    if not (Path(root) / STORAGE_NAME).exists():
        return []
    return [s.study_name for s in optuna.get_all_study_summaries(open_storage(root), include_best_trial=False)]


def pick_name(root: Path, space: SearchSpace) -> str:
    """The sweep that searches this space (to resume it), or a fresh name for a new one."""
    storage = open_storage(root) if (Path(root) / STORAGE_NAME).exists() else None
    text = json.dumps(space_signature(space), sort_keys=True)
    names = study_names(root)
    for name in names:
        study = optuna.load_study(study_name=name, storage=storage)
        if study.user_attrs.get(SPACE_ATTR) == text:
            return name
    n = 1
    while (name := DEFAULT_STUDY if n == 1 else f"{DEFAULT_STUDY}-{n}") in names:
        n += 1
    return name


# -- budget and recovery ----------------------------------------------------------------

def _retried(trials) -> set[int]:
    out = set()
    for t in trials:
        if "retry_of" in t.user_attrs:
            out.add(t.user_attrs["retry_of"])
        if "failed_trial" in t.system_attrs:  # optuna's RetryHeartbeatStaleTrialCallback
            out.add(t.system_attrs["failed_trial"])
    return out


def used_budget(study: optuna.Study) -> int:
    """Trials that count against the budget: finished or running ones, but not a trial
    that was interrupted and queued again (its retry counts instead)."""
    trials = study.get_trials(deepcopy=False)
    retried = _retried(trials)
    counted = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)
    return sum(1 for t in trials if t.state in counted and t.number not in retried)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_stale(study: optuna.Study) -> list[int]:
    """Trials left RUNNING by a killed process on this machine: mark them failed and
    queue their parameters again, so the study continues where it stopped."""
    host = socket.gethostname()
    storage = study._storage
    recovered = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = t.user_attrs.get("owner") or {}
        pid = owner.get("pid")
        if owner.get("host") != host or not isinstance(pid, int) or _alive(pid):
            continue
        try:
            storage.set_trial_user_attr(t._trial_id, "interrupted", True)
            if not storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:  # another process recovered it first
            continue
        study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
        recovered.append(t.number)
    return recovered


def mark_running(trial: optuna.Trial) -> None:
    trial.set_user_attr("owner", {"host": socket.gethostname(), "pid": os.getpid()})
