"""`studio train --nproc N ...`: the launcher side, and the worker side it starts.

The launcher hands the job to torchrun's elastic agent (torch.distributed.run),
which starts the workers, runs the rendezvous and stops every worker when one
fails. Each worker is `python -m studio train ...` again, without the launch
options; it finds RANK/WORLD_SIZE in its environment and joins the job. A
`studio train` started by an external torchrun joins the same way.

Imports of torch stay inside functions: `studio validate` must start fast.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from studio.cli.main import RunFailed, UsageError
from studio.train import CHECKPOINT_FILE

# Options that only the launcher uses; workers are started without them.
LAUNCH_OPTIONS = {"nproc": "--nproc-per-node", "nnodes": "--nnodes", "node_rank": "--node-rank",
                  "master_addr": "--master-addr", "master_port": "--master-port",
                  "rdzv_backend": "--rdzv-backend", "rdzv_endpoint": "--rdzv-endpoint"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("several processes or machines (torchrun's options pass straight through)")
    g.add_argument("--nproc", type=int, metavar="N",
                   help="worker processes on this machine (one GPU each on CUDA); batch_size is the global batch")
    g.add_argument("--nnodes", metavar="N", help="machines in the job (or MIN:MAX for elastic rendezvous)")
    g.add_argument("--node-rank", type=int, metavar="R", help="this machine's number, 0 to nnodes-1")
    g.add_argument("--master-addr", metavar="HOST", help="address of the machine with node rank 0")
    g.add_argument("--master-port", type=int, metavar="PORT", help="free port on the master machine")
    g.add_argument("--rdzv-backend", metavar="NAME", help="rendezvous backend, e.g. c10d")
    g.add_argument("--rdzv-endpoint", metavar="HOST:PORT", help="rendezvous endpoint")
    g.add_argument("--ddp-timeout", type=float, metavar="SECONDS",
                   help="give up on a collective after this long (default 60, or $STUDIO_DDP_TIMEOUT)")


def check_launch_options(args) -> None:
    """Refuse nonsense before anything starts: --nproc 0 or -3 used to mean "not distributed"."""
    if args.nproc is not None and args.nproc < 1:
        raise UsageError(f"--nproc must be at least 1, got {args.nproc}")
    if args.node_rank is not None and args.node_rank < 0:
        raise UsageError(f"--node-rank must be 0 or more, got {args.node_rank}")
    if args.master_port is not None and not 0 < args.master_port < 65536:
        raise UsageError(f"--master-port must be 1 to 65535, got {args.master_port}")
    if args.ddp_timeout is not None and not args.ddp_timeout > 0:
        raise UsageError(f"--ddp-timeout must be a positive number of seconds, got {args.ddp_timeout}")


def distributed_requested(args) -> bool:
    """True under torchrun (RANK/WORLD_SIZE set) or when the options ask for a launch."""
    from studio.train.distributed import DistEnv
    return DistEnv.from_environ() is not None or _wants_launch(args)


def _wants_launch(args) -> bool:
    given = {k: getattr(args, k, None) for k in LAUNCH_OPTIONS}
    if (given["nproc"] or 1) > 1 or given["nnodes"] not in (None, "1", "1:1"):
        return True
    return any(v is not None for k, v in given.items() if k not in ("nproc", "nnodes"))


def cmd_train_distributed(args) -> int:
    from studio.train.distributed import DistEnv
    env = DistEnv.from_environ()
    if env is None:
        return launch(args)
    if _wants_launch(args):
        raise UsageError("this process was started by torchrun already (RANK and WORLD_SIZE are set): "
                         "drop --nproc and the rendezvous options")
    return run_worker(args, env)


# -- the launcher -----------------------------------------------------------------
def launch(args) -> int:
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    from studio.cli.run_common import apply_overrides, run_folder
    from studio.project.file import load

    nproc = args.nproc or 1
    if nproc < 1:
        raise UsageError("--nproc must be at least 1")
    nnodes = str(args.nnodes or "1")
    path = Path(args.project)
    project = load(path)  # bad project or options: say so before starting anything
    apply_overrides(project, args)
    if ":" not in nnodes:
        check_batch_size(project.train.batch_size, nproc * int(nnodes))
    out = args.out
    if out is not None or not (args.resume and nnodes != "1"):  # elsewhere rank 0 finds the latest run
        out = str(run_folder(args, path))  # also refuses an --out holding a user's files
    if args.resume and out and nnodes == "1" and not (Path(out) / CHECKPOINT_FILE).exists():
        raise UsageError(f"--resume: there is no checkpoint in {out}; train without --resume first")
    argv = [LAUNCH_OPTIONS["nproc"], str(nproc), "--nnodes", nnodes]
    for key, flag in LAUNCH_OPTIONS.items():
        if key not in ("nproc", "nnodes") and getattr(args, key, None) is not None:
            argv += [flag, str(getattr(args, key))]
    argv += ["-m", "studio", *worker_argv(args, out)]
    saved = os.environ.get("OMP_NUM_THREADS")
    if saved is None:  # torchrun would pin every worker to 1 thread; share the cores instead
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // nproc))
    try:
        torchrun.run(torchrun.parse_args(argv))
    except ChildFailedError as e:
        code, message = describe_failure(e)
        raise (UsageError if code == 2 else RunFailed)(message) from None
    except SignalException:
        raise KeyboardInterrupt from None
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
    return 0


def check_batch_size(batch_size: int, world_size: int) -> None:
    if batch_size % world_size:
        raise UsageError(f"batch size {batch_size} is the global batch and must divide evenly among "
                         f"{world_size} processes: use e.g. --batch-size "
                         f"{max(world_size, batch_size // world_size * world_size)}")


def worker_argv(args, out: str | None) -> list[str]:
    """The `studio train` arguments again, minus the launch options, plus the resolved --out.
    Rebuilt from the parser, so options added to `studio train` later pass through too."""
    from studio.cli.main import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    argv = ["--debug"] if getattr(args, "debug", False) else []
    argv.append("train")
    for action in sub.choices["train"]._actions:
        dest = action.dest
        if dest in LAUNCH_OPTIONS or dest in ("help", "out") or not hasattr(args, dest):
            continue
        value = getattr(args, dest)
        if not action.option_strings:
            argv += [str(v) for v in (value if isinstance(value, list) else [value])]
            continue
        flag = max(action.option_strings, key=len)
        if isinstance(action, argparse._StoreTrueAction):
            argv += [flag] if value else []
        elif isinstance(action, argparse._StoreFalseAction):
            argv += [] if value else [flag]
        elif isinstance(action, argparse._AppendAction):
            for v in value or []:
                argv += [flag, str(v)]
        elif value is not None and value != action.default:
            argv += [flag, *([str(v) for v in value] if isinstance(value, list) else [str(value)])]
    if out is not None:
        argv += ["--out", str(out)]
    return argv


def describe_failure(e) -> tuple[int, str]:
    """(exit code, message) naming the worker that failed first.

    The agent stops the others with SIGTERM once one fails, and workers that only
    lost contact with it exit with PEER_LOST_EXIT: those are followers, not causes.
    """
    import signal

    from studio.train.distributed import PEER_LOST_EXIT

    def suspicion(rank):
        code = failures[rank].exitcode
        follower = code == PEER_LOST_EXIT or code == -signal.SIGTERM
        return (follower, code < 0, failures[rank].timestamp, rank)

    failures = e.failures
    rank = min(failures, key=suspicion)
    f = failures[rank]
    what = f"was killed by signal {f.signal_name()}" if f.exitcode < 0 else f"exited with code {f.exitcode}"
    message = f"worker rank {rank} (local rank {f.local_rank}, pid {f.pid}) {what}; the whole job was stopped"
    detail = f.message if f.error_file and os.path.isfile(f.error_file) else ""
    if detail:
        message += f": {str(detail).strip().splitlines()[-1]}"
    others = sorted(r for r in failures if r != rank)
    if others:
        message += f" (rank{'s' if len(others) > 1 else ''} {', '.join(map(str, others))} stopped after it)"
    return (2 if f.exitcode == 2 else 1), message


# -- a worker ------------------------------------------------------------------------
def run_worker(args, env) -> int:
    from studio.cli.console import ConsoleReport
    from studio.cli.run_common import apply_overrides, json_line, run_folder, summary
    from studio.project.file import load
    from studio.train import distributed as d
    from studio.train.runtime import INPUT_KINDS

    path = Path(args.project)
    project = load(path)
    apply_overrides(project, args)
    check_batch_size(project.train.batch_size, env.world_size)
    try:
        device = d.training_device(project.train.device, env)
    except d.DistributedSetupError as e:
        raise UsageError(str(e)) from None
    group = d.init(env, device, d.collective_timeout(args.ddp_timeout))
    try:
        out = None
        if env.rank == 0:
            out = run_folder(args, path)
            if args.resume and not (out / CHECKPOINT_FILE).exists():
                raise UsageError(f"--resume: there is no checkpoint in {out}; train without --resume first")
        dataset = _load_data(project, env)
        callbacks = [ConsoleReport()] if env.rank == 0 else []
        tensorboard = getattr(args, "tensorboard", None) if env.rank == 0 else None  # rank 0 logs
        trainer = d.DistributedTrainer(project, dataset, env, group, out_dir=out, device=device,
                                       callbacks=callbacks, resume=args.resume, tensorboard_dir=tensorboard)
        result = trainer.run()
        d.write_debug(trainer)
        if env.rank == 0:
            doc = summary(result, trainer)
            # Every rank trains an equal share in lock-step: the job's rate is N times rank 0's.
            doc.update(images_per_second=round(result.images_per_second * env.world_size, 1),
                       world_size=env.world_size, batch_size=project.train.batch_size,
                       batch_size_per_process=project.train.batch_size // env.world_size)
            print(json_line(doc), flush=True)
    finally:
        d.shutdown()
    if result.status != "failed":
        return 0
    err = trainer.error
    where = f"rank {env.rank}: " if env.rank else ""
    if trainer.comm_failure or "DistBackendError" in err.detail or "DistNetworkError" in err.detail:
        reason = err.message.split(" This is typically caused")[0]  # gloo adds advice and an emoji
        print(f"studio: error: rank {env.rank} lost contact with another worker, which probably failed "
              f"({reason})", file=sys.stderr, flush=True)
        return d.PEER_LOST_EXIT
    if err.epoch is None and err.kind in INPUT_KINDS:
        raise UsageError(where + err.message)
    raise RunFailed(where + err.message)


def _load_data(project, env):
    """Local rank 0 loads first, so a download happens once per machine, not once per process."""
    from studio.cli.console import data_progress as _data_progress
    from studio.data.load import load_dataset
    from studio.train.distributed import barrier_cpu

    progress = _data_progress if env.rank == 0 else None
    if env.local_rank != 0:
        barrier_cpu()
    dataset = load_dataset(project.data, progress)
    if env.local_rank == 0:
        barrier_cpu()
    return dataset
