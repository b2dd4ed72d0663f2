"""`studio train`: train a project headless.

stderr: data loading and a plain-text progress bar per epoch (a line per quarter
epoch when stderr is not a terminal).
stdout: one line per epoch, then, as the LAST line, a JSON summary that
scripts can parse. Ctrl+C once stops at the next batch and saves a checkpoint
(`--resume` continues it); twice aborts.
"""
from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

from studio.cli import RunFailed, UsageError
from studio.settings import DataSettings, TrainSettings, check

BAR = 28


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="train a project without the app; prints a JSON summary last")
    p.add_argument("project")
    p.add_argument("--data-dir", help="folder holding the dataset (torchvision's root, or cifar-10-batches-py itself)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--out", help="run folder (default runs/<project>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out (default: the latest run)")
    from studio.train.launch import add_arguments as add_distributed_arguments
    add_distributed_arguments(p)  # --nproc, --nnodes, ...: see studio/train/launch.py
    p.set_defaults(func=cmd_train)


def stem(path: Path) -> str:
    name = path.name
    for suffix in (".studio.json", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def apply_overrides(project, args) -> None:
    for key, value in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr),
                       ("device", args.device)):
        if value is not None:
            setattr(project.train, key, check(TrainSettings, key, value, "--" + key.replace("_", "-")))
    if args.data_dir:
        project.data.root = check(DataSettings, "root", str(Path(args.data_dir).expanduser()), "--data-dir")


def run_folder(args, project_path: Path) -> Path:
    if args.out:
        return Path(args.out)
    runs = Path("runs")
    if args.resume:
        found = sorted(runs.glob(f"{stem(project_path)}-*/checkpoint.safetensors"))
        if not found:
            raise UsageError(f"--resume: no earlier run of {project_path.name} in {runs}/; give --out")
        return found[-1].parent
    return runs / f"{stem(project_path)}-{time.strftime('%Y%m%d-%H%M%S')}"


class ConsoleReport:
    """Callbacks that print: a bar on stderr (terminals only), a line per epoch on stdout."""

    def __init__(self, metric: str = "accuracy"):
        self.tty = sys.stderr.isatty()
        self.metric = metric

    def on_batch_end(self, e) -> None:
        if not self.tty:  # a log file: a plain line at each quarter of the epoch instead of a bar
            quarter = 4 * e.batch // e.batches
            if 0 < quarter < 4 and (e.epoch, quarter) != getattr(self, "_quarter", None):
                self._quarter = (e.epoch, quarter)
                print(f"epoch {e.epoch}: {quarter * 25}% ({e.batch}/{e.batches}) loss {e.loss:.4f} "
                      f"{e.images_per_second:,.0f} img/s", file=sys.stderr, flush=True)
            return
        done = int(BAR * e.batch / e.batches)
        m = "" if e.metric is None else f" {_fmt_metric(e.metric, self.metric)}"
        sys.stderr.write(f"\repoch {e.epoch} [{'#' * done}{'.' * (BAR - done)}] {e.batch}/{e.batches} "
                         f"loss {e.loss:.4f}{m} {e.images_per_second:,.0f} img/s  ")
        sys.stderr.flush()

    def on_epoch_end(self, e) -> None:
        if self.tty:
            sys.stderr.write("\r" + " " * 100 + "\r")
        self.metric = e.metric_name
        line = (f"epoch {e.epoch}/{e.epochs}  train loss {e.train_loss:.4f} "
                f"{_fmt_metric(e.train_metric, e.metric_name)}")
        if e.val_loss is not None:
            line += f"  val loss {e.val_loss:.4f} {_fmt_metric(e.val_metric, e.metric_name)}"
        line += f"  {e.seconds:.1f}s" + ("  *best" if e.is_best else "")
        print(line, flush=True)

    def on_error(self, err) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _fmt_metric(value: float, name: str) -> str:
    return f"acc {value * 100:.1f}%" if name == "accuracy" else f"mae {value:.4f}"


def _data_progress(fraction: float, message: str) -> None:
    print(f"data: {message} ({fraction * 100:.0f}%)" if fraction < 1 else f"data: {message}",
          file=sys.stderr, flush=True)


def summary(result, trainer) -> dict:
    metric_key = "val_accuracy" if result.metric_name == "accuracy" else "val_mae"
    out = {"status": result.status, "epochs": result.epochs, "train_loss": result.train_loss,
           "val_loss": result.val_loss, metric_key: result.val_metric, "best_epoch": result.best_epoch,
           "seconds": round(result.seconds, 3), "images_per_second": round(result.images_per_second, 1),
           "paths": result.paths}
    if trainer.error is not None:
        out["error"] = {"kind": trainer.error.kind, "message": trainer.error.message}
    return out


def cmd_train(args) -> int:
    from studio.data.load import load_dataset
    from studio.graph.project import load
    from studio.train.trainer import Trainer

    from studio.train.launch import cmd_train_distributed, distributed_requested
    if distributed_requested(args):  # --nproc/--nnodes..., or started by torchrun
        return cmd_train_distributed(args)
    path = Path(args.project)
    project = load(path)
    apply_overrides(project, args)
    out = run_folder(args, path)
    if args.resume and not (out / "checkpoint.safetensors").exists():
        raise UsageError(f"--resume: there is no checkpoint in {out}; train without --resume first")
    _check_wiring(project)
    dataset = load_dataset(project.data, _data_progress)
    report = ConsoleReport()
    trainer = Trainer(project, dataset, out_dir=out, callbacks=[report], resume=args.resume)
    with _stop_on_ctrl_c(trainer):
        result = trainer.run()
    print(json.dumps(summary(result, trainer)), flush=True)
    if result.status != "failed":
        return 0
    err = trainer.error
    if err.epoch is None and err.kind in ("shape", "data"):
        raise UsageError(err.message)  # the project or data does not fit: bad input
    raise RunFailed(err.message)


def _check_wiring(project) -> None:
    """Fail before a possibly long dataset load when the graph's wiring is wrong.
    Shape problems wait: the Input node takes the dataset's shape first."""
    from studio.graph.compile import CompileError
    from studio.graph.validate import validate
    wiring = [p for p in validate(project.model) if not p.shape]
    if wiring:
        raise CompileError(wiring)


class _stop_on_ctrl_c:
    """First Ctrl+C asks the trainer to stop cleanly (checkpoint saved); the second aborts."""

    def __init__(self, trainer):
        self.trainer, self.previous = trainer, None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.trainer.stopping:
            raise KeyboardInterrupt
        print("\nstudio: stopping after this batch (Ctrl+C again to abort)", file=sys.stderr, flush=True)
        self.trainer.stop()

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False
