"""`studio train`: train a project headless.

stderr: data loading and a plain-text progress bar per epoch (a line per quarter
epoch when stderr is not a terminal).
stdout: one line per epoch, then, as the LAST line, a JSON summary that
scripts can parse. Ctrl+C once stops at the next batch and saves a checkpoint
(`--resume` continues it); twice aborts.
"""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from studio.cli.main import RunFailed, UsageError
from studio.cli.console import ConsoleReport, data_progress
from studio.cli.run_common import apply_overrides, check_device_and_cost, json_line, run_folder, summary
from studio.train import CHECKPOINT_FILE


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="train a project without the app; prints a JSON summary last")
    p.add_argument("project")
    p.add_argument("--data-dir", help="folder holding the dataset (torchvision's root, or cifar-10-batches-py itself)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--precision", choices=("fp32", "bf16", "fp16"),
                   help="bf16: mixed precision on CUDA and on CPUs with bf16 instructions; fp16: CUDA only")
    p.add_argument("--out", help="run folder (default runs/<project>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out (default: the latest run)")
    p.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard event files into DIR")
    from studio.cli.launch import add_arguments as add_distributed_arguments
    add_distributed_arguments(p)  # --nproc, --nnodes, ...: see studio/cli/launch.py
    p.set_defaults(func=cmd_train)


def cmd_train(args) -> int:
    from studio.data.load import load_dataset
    from studio.project.file import load
    from studio.train.runtime import INPUT_KINDS
    from studio.train.trainer import Trainer

    from studio.cli.launch import check_launch_options, cmd_train_distributed, distributed_requested
    check_launch_options(args)
    if distributed_requested(args):  # --nproc/--nnodes..., or started by torchrun
        return cmd_train_distributed(args)
    path = Path(args.project)
    project = load(path)
    apply_overrides(project, args)
    out = run_folder(args, path)
    if args.resume and not (out / CHECKPOINT_FILE).exists():
        raise UsageError(f"--resume: there is no checkpoint in {out}; train without --resume first")
    _check_wiring(project)
    check_device_and_cost(project)
    dataset = load_dataset(project.data, data_progress)
    report = ConsoleReport()
    trainer = Trainer(project, dataset, out_dir=out, callbacks=[report], resume=args.resume,
                      tensorboard_dir=args.tensorboard)
    with _stop_on_ctrl_c(trainer):
        result = trainer.run()
    if trainer.init_skipped:
        print(f"init_weights: {len(trainer.init_skipped)} tensors did not fit and started fresh "
              f"({', '.join(trainer.init_skipped[:4])}{', ...' if len(trainer.init_skipped) > 4 else ''})",
              file=sys.stderr)
    print(json_line(summary(result, trainer)), flush=True)
    if result.status != "failed":
        return 0
    err = trainer.error
    if err.epoch is None and err.kind in INPUT_KINDS:
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
