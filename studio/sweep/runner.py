"""Run trials of a sweep in this process, one after another, until the budget
(trial count shared through the storage, and/or time) is spent.

The CLI runs one of these per process (`--jobs`); the app runs one in its
worker thread. `stop()` is thread-safe: the current trial stops at its next
batch, is marked interrupted and queued again for a later resume.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from studio.project.search_space import SearchSpace
from studio.sweep.study import DEFAULT_STUDY, SweepError, mark_running, open_study, recover_stale, used_budget

# studio.sweep.trial (torch, the trainer) is imported when trials run: a `--jobs`
# parent process only coordinates, and starts faster without torch.


@dataclass
class SweepConfig:
    root: Path                  # runs folder holding sweep.db and the trial folders
    name: str = DEFAULT_STUDY
    trials: int = 0             # study-wide budget (0 = none)
    share: int = 0              # at most this many trials from this process (0 = no limit)
    timeout: float = 0.0        # seconds for this process (0 = none)
    worker: int = 0             # index of this process among parallel ones

    @property
    def folder(self) -> Path:
        return Path(self.root) / self.name


def check_budget(space: SearchSpace, trials: int, timeout: float) -> None:
    if not space.dimensions:
        raise SweepError("the project has no search dimensions: mark a parameter to search "
                         "(inspector or run settings), or add them to its \"sweep\" section")
    if trials <= 0 and timeout <= 0 and space.strategy != "grid":
        raise SweepError("the sweep has no budget: give a number of trials or a time limit")


class SweepRunner:
    def __init__(self, project, space: SearchSpace, config: SweepConfig, *, listener=None,
                 trainer_callbacks=(), progress=None):
        self.project, self.space, self.config = project, space, config
        self.listener = listener            # on_trial_start(number, params), on_trial_end(TrialInfo)
        self.trainer_callbacks = list(trainer_callbacks)
        self.progress = progress
        self._cache = None
        self._stop = threading.Event()
        self._trainer = None
        self._lock = threading.Lock()
        self.ran: list = []  # TrialInfo of each trial this runner ran
        self.study: optuna.Study | None = None

    @property
    def cache(self):
        """The dataset, loaded once per process (DatasetCache)."""
        if self._cache is None:
            from studio.sweep.trial import DatasetCache
            self._cache = DatasetCache(self.progress)
        return self._cache

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self._trainer is not None:
                self._trainer.stop()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def open(self, recover: bool = True) -> optuna.Study:
        self.study = open_study(self.config.root, self.config.name, self.project, self.space,
                                self.config.worker)
        if recover:
            recover_stale(self.study)
        return self.study

    def remaining(self) -> int | None:
        """Trials left in the study-wide budget (None: no count limit)."""
        if self.config.trials <= 0:
            return None
        return max(0, self.config.trials - used_budget(self.study))

    def run(self) -> list:
        """Run trials until the budget or stop(); returns this call's TrialInfos."""
        from studio.sweep.trial import Interrupted, run_trial
        if self.study is None:
            self.open()
        study, cfg = self.study, self.config
        maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
        left = self.remaining()
        if left == 0 or self._stop.is_set():
            return self.ran
        n_trials = left if not cfg.share else (cfg.share if left is None else min(left, cfg.share))
        started = time.monotonic()

        def objective(trial: optuna.Trial):
            mark_running(trial)
            if self.listener is not None:
                self.listener.on_trial_start(trial.number, dict(trial.params))
            info = run_trial(trial, self.project, self.space, cfg.folder / f"trial-{trial.number:04d}",
                             self.cache, maximize, self.trainer_callbacks, self._set_trainer)
            self._set_trainer(None)
            self.ran.append(info)
            if self.listener is not None:
                self.listener.on_trial_end(info)
            if info.state == "interrupted":
                trial.set_user_attr("interrupted", True)
                study.enqueue_trial(info.params, user_attrs={"retry_of": trial.number})
                study.stop()
                raise Interrupted
            if info.state == "pruned":
                raise optuna.TrialPruned
            if info.state == "failed":
                return float("nan") if len(study.directions) == 1 else (float("nan"),) * 2
            return info.values[0] if len(info.values) == 1 else tuple(info.values)

        def budget(study_: optuna.Study, _trial) -> None:
            # Shared budget: other processes' trials count too.
            if self._stop.is_set() or (cfg.trials and used_budget(study_) >= cfg.trials):
                study_.stop()

        try:
            study.optimize(objective, n_trials=n_trials, timeout=cfg.timeout or None,
                           callbacks=[budget], catch=(), gc_after_trial=False, show_progress_bar=False)
        except Interrupted:
            pass
        self.seconds = time.monotonic() - started
        return self.ran

    def _set_trainer(self, trainer) -> None:
        with self._lock:
            self._trainer = trainer
            if trainer is not None and self._stop.is_set():
                trainer.stop()


def summary(study: optuna.Study) -> dict:
    """Counts and the best trial(s), for the CLI's last line and the app's status."""
    trials = study.get_trials(deepcopy=False)
    counts = {s: sum(1 for t in trials if t.state == st) for s, st in
              (("complete", TrialState.COMPLETE), ("pruned", TrialState.PRUNED),
               ("failed", TrialState.FAIL), ("running", TrialState.RUNNING), ("waiting", TrialState.WAITING))}
    # Stopped or killed trials are queued again; they did not fail.
    counts["interrupted"] = sum(1 for t in trials if t.state == TrialState.FAIL and t.user_attrs.get("interrupted"))
    counts["failed"] -= counts["interrupted"]
    out = {"study": study.study_name, "trials": counts}
    if counts["complete"]:
        best = study.best_trials
        out["best"] = [{"number": t.number, "values": t.values, "params": t.params,
                        "run": (t.user_attrs.get("run") or {}).get("folder", "")} for t in best[:10]]
    return out
