"""`studio sweep PROJECT --trials N --jobs J [--timeout S]`: search the project's
marked parameters with optuna, each trial an ordinary run folder.

The study lives in `<runs>/sweep.db` (SQLite, optuna's own schema), so running
the same command again resumes it, and `--jobs J` starts J processes that share
it. stdout: one line per trial, then a JSON summary as the last line.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from studio.cli.main import RunFailed, UsageError
from studio.project.search_space import STRATEGIES


def add_commands(sub) -> None:
    p = sub.add_parser("sweep", help="search parameters marked in the project (optuna); resumable")
    p.add_argument("project")
    p.add_argument("--trials", type=int, help="trial budget for the whole sweep (default: the project's)")
    p.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    p.add_argument("--jobs", type=int, default=1, help="parallel processes sharing the study (default 1)")
    p.add_argument("--strategy", choices=STRATEGIES, help="override the project's strategy")
    p.add_argument("--name", help="sweep (study) name; the same name resumes it (default: sweep)")
    p.add_argument("--out", help="runs folder holding sweep.db and the trials (default <project>.runs/)")
    p.add_argument("--epochs", type=int, help="epochs per trial")
    p.add_argument("--data-dir", help="folder holding the dataset")
    # Internal: how a `--jobs` parent starts its worker processes.
    p.add_argument("--worker", type=int, default=-1, help=argparse.SUPPRESS)
    p.add_argument("--share", type=int, default=0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_sweep)


def _prepare(args):
    from studio.cli.run_common import apply_overrides
    from studio.project.file import load
    from studio.sweep.runner import SweepConfig, check_budget
    from studio.sweep.study import DEFAULT_STUDY, runs_root

    path = Path(args.project)
    project = load(path)  # a bad search space is refused here, in one line
    if project.sweep is None:
        raise UsageError(f"{path.name} has no search dimensions: mark parameters to search in the app, "
                         f"or add a \"sweep\" section")
    space = project.sweep
    if args.strategy:
        space.strategy = args.strategy
    for flag, value in (("--trials", args.trials), ("--jobs", args.jobs)):
        if value is not None and value < (1 if flag == "--jobs" else 0):
            raise UsageError(f"{flag} must be at least {1 if flag == '--jobs' else 0}, got {value}")
    if args.timeout is not None and not 0 <= args.timeout <= 1e7:
        raise UsageError(f"--timeout must be seconds from 0 to 1e7, got {args.timeout}")
    args.batch_size = args.lr = args.device = None
    apply_overrides(project, args)
    trials = space.trials if args.trials is None else args.trials
    timeout = space.timeout if args.timeout is None else args.timeout
    if space.strategy == "grid" and trials <= 0:
        from studio.sweep.study import grid_size
        trials = grid_size(space)
    check_budget(space, trials, timeout)
    root = Path(args.out) if args.out else runs_root(path)
    config = SweepConfig(root, args.name or DEFAULT_STUDY, trials, args.share, timeout, max(0, args.worker))
    return project, space, config


def cmd_sweep(args) -> int:
    import optuna
    from studio.sweep.runner import SweepRunner, summary
    from studio.sweep.study import SweepError
    # Our own lines report each trial; optuna's would repeat them (with tracebacks for stops).
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    try:
        project, space, config = _prepare(args)
    except SweepError as e:
        raise UsageError(str(e)) from None
    worker = args.worker >= 0
    runner = SweepRunner(project, space, config, listener=_Console(space.objective), progress=_data_progress)
    try:
        study = runner.open(recover=True)
    except SweepError as e:
        raise UsageError(str(e)) from None
    if not worker:
        left = runner.remaining()
        print(f"sweep {config.name!r}: {len(study.trials)} trials so far in {config.root / 'sweep.db'}"
              + (f", {left} to run" if left is not None else ""), file=sys.stderr, flush=True)
    if args.jobs > 1 and not worker:
        _run_parallel(args, config, runner.remaining())
    else:
        from studio.cli.train import _stop_on_ctrl_c
        # First Ctrl+C: the trial stops at its next batch and is queued again for a resume.
        with _stop_on_ctrl_c(runner):
            runner.run()
    if worker:
        return 0
    study = runner.open(recover=False)
    out = summary(study)
    out["storage"] = str(Path(config.root) / "sweep.db")
    print(json.dumps(out), flush=True)
    if out["trials"]["complete"] == 0 and out["trials"]["pruned"] == 0 and out["trials"]["failed"]:
        raise RunFailed("every trial failed; see the trial folders' messages")
    return 0


def _run_parallel(args, config, left: int | None) -> None:
    """J processes on one storage. The budget is split exactly, so none is run twice or lost."""
    jobs = args.jobs if left is None else max(1, min(args.jobs, left))
    shares = [0] * jobs if left is None else [left // jobs + (i < left % jobs) for i in range(jobs)]
    threads = max(1, (os.cpu_count() or 1) // jobs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    procs = []
    for i, share in enumerate(shares):
        cmd = [sys.executable, "-m", "studio", "sweep", args.project, "--out", str(config.root),
               "--name", config.name, "--worker", str(i), "--trials", str(config.trials)]
        if config.trials:
            cmd += ["--share", str(share)]
        if config.timeout:
            cmd += ["--timeout", str(config.timeout)]
        for flag, value in (("--strategy", args.strategy), ("--epochs", args.epochs),
                            ("--data-dir", args.data_dir)):
            if value is not None:
                cmd += [flag, str(value)]
        procs.append(subprocess.Popen(cmd, env=env))
    # Ctrl+C reaches the workers too (one process group): each stops its trial cleanly,
    # so the parent only waits for them.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        codes = [p.wait() for p in procs]
    finally:
        signal.signal(signal.SIGINT, previous)
    if any(codes):
        raise RunFailed(f"{sum(1 for c in codes if c)} of {jobs} sweep processes failed (exit codes {codes})")


class _Console:
    def __init__(self, objective: str):
        self.objective = objective

    def on_trial_start(self, number: int, params: dict) -> None:
        pass

    def on_trial_end(self, info) -> None:
        params = " ".join(f"{k}={_fmt(v)}" for k, v in info.params.items())
        value = ""
        if info.values:
            v = info.values[0]
            if self.objective == "loss":
                value = f"loss {v:.4f}"
            else:
                value = f"acc {v * 100:.1f}%" if info.metric_name == "accuracy" else f"mae {v:.4f}"
        line = f"trial {info.number:>3}  {info.state:<9} {value:<11} {params}  {info.seconds:.1f}s"
        if info.message and info.state == "failed":
            line += f"  ({info.message})"
        print(line, flush=True)


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _data_progress(fraction: float, message: str) -> None:
    if fraction >= 1:
        print(f"data: {message}", file=sys.stderr, flush=True)
