"""One trial: the project with the trial's values applied, trained by the
ordinary Trainer into an ordinary run folder, with optuna's pruner watching
the epoch curve through a trainer callback."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import optuna

from studio.data.load import load_dataset
from studio.graph.blocks import resolve
from studio.project import file as project_io
from studio.project.search_space import Dimension, SearchSpace
from studio.settings import to_dict
from studio.train.trainer import Trainer

# Data settings the Batcher applies at training time: the loaded dataset can be reused.
_BATCH_TIME = {"augment_crop", "augment_flip", "normalize"}


class Interrupted(Exception):
    """The user stopped the sweep during this trial."""


@dataclass
class TrialInfo:
    """What listeners (console, app) hear when a trial ends."""
    number: int
    state: str                       # "complete" | "pruned" | "failed" | "interrupted"
    params: dict
    values: list[float] | None
    metric_name: str = ""
    epochs: int = 0
    seconds: float = 0.0
    run: str = ""                    # run folder
    message: str = ""
    cost: dict = field(default_factory=dict)


def suggest(trial: optuna.Trial, dim: Dimension):
    if dim.kind == "choice":
        return trial.suggest_categorical(dim.key, dim.choices)
    if dim.kind == "int":
        return trial.suggest_int(dim.key, dim.low, dim.high, log=dim.log)
    return trial.suggest_float(dim.key, dim.low, dim.high, log=dim.log)


def apply(project, dim: Dimension, value) -> None:
    if dim.target == "node":
        model, nid = resolve(project.model, dim.node)
        model.set_param(nid, dim.param, value)
    else:
        section = project.train if dim.target == "training" else project.data
        setattr(section, dim.param, value)


def trial_project(project, space: SearchSpace, values: dict, number: int):
    """An independent copy with the values applied; it is what the run folder keeps."""
    copy = project_io.loads(project_io.dumps(project))
    for dim in space.dimensions:
        apply(copy, dim, values[dim.key])
    copy.sweep = None  # the copy is one concrete configuration
    copy.name = f"{project.name} · trial {number}"
    return copy


class DatasetCache:
    """Load the dataset once per process; reload only when a searched data setting changes it."""

    def __init__(self, progress=None):
        self.key, self.dataset, self.progress = None, None, progress

    def get(self, data_settings):
        key = tuple(sorted((k, v) for k, v in to_dict(data_settings).items() if k not in _BATCH_TIME))
        if key != self.key:
            self.dataset, self.key = load_dataset(data_settings, self.progress), key
        return self.dataset


def report_epoch(n: int) -> bool:
    """Epochs whose value goes to the pruner: 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, ...
    The same epochs in every trial (MedianPruner compares trials at equal steps),
    and O(log epochs) storage writes per trial instead of one per epoch."""
    while n % 2 == 0 and n > 1:
        n //= 2
    return n in (1, 3)


class _PruneWatch:
    """Trainer callback: report the validation value at report epochs, stop when optuna
    says prune.

    Asking the pruner reads every finished trial from the shared storage (~10-30 ms
    with SQLite on a busy machine). After the first ask, the next waits until training
    has taken 1/BUDGET times longer than the asks so far, so with epochs shorter than
    an ask, asking costs at most ~BUDGET of the training time."""
    BUDGET = 0.02

    def __init__(self, trial: optuna.Trial, objective: str, report: bool):
        self.trial, self.objective, self.report = trial, objective, report
        self.trainer: Trainer | None = None
        self.pruned = False
        self._asked_s = 0.0
        self._trained_s = 0.0

    def on_epoch_end(self, e) -> None:
        self._trained_s += e.seconds
        if not self.report or e.epoch == e.epochs or not report_epoch(e.epoch):
            return  # pruning after the last epoch would save nothing
        value = epoch_value(e, self.objective)
        if value is None:
            return
        self.trial.report(value, e.epoch)
        if self._asked_s and self._asked_s > self.BUDGET * self._trained_s:
            return
        t0 = time.perf_counter()
        prune = self.trial.should_prune()
        self._asked_s += time.perf_counter() - t0
        if prune:
            self.pruned = True
            self.trainer.stop()


def epoch_value(e, objective: str) -> float | None:
    """The value optimised, from one epoch (validation if there is any, else training)."""
    if objective == "loss":
        v = e.val_loss if e.val_loss is not None else e.train_loss
    else:
        v = e.val_metric if e.val_metric is not None else e.train_metric
    return None if v is None or not math.isfinite(v) else float(v)


def best_value(history, objective: str, maximize: bool) -> float | None:
    values = [v for v in (epoch_value(e, objective) for e in history) if v is not None]
    if not values:
        return None
    return max(values) if maximize else min(values)


def run_trial(trial: optuna.Trial, project, space: SearchSpace, folder: Path, cache: DatasetCache,
              maximize: bool, callbacks=(), on_trainer=None) -> TrialInfo:
    """Train one trial. Returns its TrialInfo; raises optuna.TrialPruned or Interrupted."""
    values = {d.key: suggest(trial, d) for d in space.dimensions}
    copy = trial_project(project, space, values, trial.number)
    dataset = cache.get(copy.data)
    multi = space.cost != "none"
    # optuna prunes single-objective studies only; without a pruner nothing reads the reports.
    watch = _PruneWatch(trial, space.objective, report=not multi and space.pruner != "none")
    trainer = Trainer(copy, dataset, out_dir=folder, callbacks=[watch, *callbacks])
    watch.trainer = trainer
    if on_trainer is not None:
        on_trainer(trainer)  # lets the caller stop the trial
    result = trainer.run()
    weights, macs = copy.model.shapes.totals()
    cost = {"params": int(weights), "macs": int(macs)}
    info = TrialInfo(trial.number, "complete", values, None, result.metric_name, result.epochs,
                     result.seconds, str(folder), result.message, cost)
    # One attribute, one storage commit (each costs a write to the shared database).
    trial.set_user_attr("run", {"folder": str(folder), "metric_name": result.metric_name,
                                "seconds": round(result.seconds, 3), "epochs": result.epochs,
                                "error": result.message if result.status == "failed" else "", **cost})
    if result.status == "failed":
        info.state = "failed"
        return info
    if watch.pruned:
        info.state = "pruned"
        return info
    if result.status == "stopped":
        info.state = "interrupted"
        return info
    value = best_value(trainer.history, space.objective, maximize)
    if value is None:
        info.state, info.message = "failed", "the trial gave no finite validation value"
        return info
    info.values = [value] if not multi else [value, float(cost[space.cost])]
    return info
