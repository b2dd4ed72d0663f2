"""Data-parallel training over torch.distributed: one Trainer per process.

The single-process Trainer is reused as is; this module only changes what
differs when N processes train one model:

- `ShardedBatcher`: every rank draws the SAME seeded permutation as a
  single-process run, drops the tail to a multiple of N, and takes every N-th
  index (rank-strided). With the project's batch size B as the GLOBAL batch and
  B/N per rank, the union of the ranks' batch k is exactly the single-process
  batch k, and DDP's gradient average equals the single-process gradient.
- `StudioDDP`: DistributedDataParallel whose state_dict has no "module." prefix
  (checkpoints stay interchangeable with single-process runs) and whose eval
  forward skips DDP (no collectives, so uneven validation shards are fine).
- `DistributedTrainer`: all-reduces the epoch's loss/metric sums and counts and
  the validation sums and confusion matrix, so every rank prints and decides
  (best epoch, early stopping) on the same global numbers; only rank 0 gets an
  output folder, so only rank 0 writes; a resumed run gets rank 0's checkpoint
  by broadcast, so other machines need no copy of the run folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from studio.fileio import write_atomic
from studio.data.batches import Batcher

from studio.train import CHECKPOINT_FILE
from studio.train.checkpoint import CheckpointError, load_checkpoint
from studio.train.trainer import Trainer

DEFAULT_TIMEOUT_S = 60.0
SETUP_TIMEOUT_S = 600.0   # loading data and joining may take long; training steps must not
PEER_LOST_EXIT = 75       # a worker that failed because ANOTHER worker vanished exits with this
FAULT_ENV = "STUDIO_DDP_FAULT"          # test hook "RANK:STEP:CODE": that rank os._exit(CODE)s at STEP
DEBUG_DIR_ENV = "STUDIO_DDP_DEBUG_DIR"  # each rank writes rank<R>.json (weights hash) there
TIMEOUT_ENV = "STUDIO_DDP_TIMEOUT"


@dataclass
class DistEnv:
    """What torchrun tells each worker through its environment."""
    rank: int
    world_size: int
    local_rank: int
    local_world_size: int

    @classmethod
    def from_environ(cls, environ=os.environ) -> "DistEnv | None":
        if "RANK" not in environ or "WORLD_SIZE" not in environ:
            return None
        world = int(environ["WORLD_SIZE"])
        return cls(int(environ["RANK"]), world, int(environ.get("LOCAL_RANK", 0)),
                   int(environ.get("LOCAL_WORLD_SIZE", world)))


class DistributedSetupError(Exception):
    exit_code = 2


def training_device(requested: str, env: DistEnv) -> torch.device:
    """CPU, or one CUDA GPU per process on each machine (the one numbered LOCAL_RANK)."""
    requested = str(requested or "auto")
    if requested == "mps" or requested.startswith("mps"):
        raise DistributedSetupError("Training on several processes runs on CPU or CUDA, not MPS: "
                                    "use --device cpu")
    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DistributedSetupError("CUDA was requested but no CUDA GPU is available here: choose auto or cpu")
    gpus = torch.cuda.device_count()
    if env.local_world_size > gpus:
        raise DistributedSetupError(
            f"{env.local_world_size} processes on this machine but only {gpus} GPU(s): use --nproc {gpus}, "
            f"or --device cpu")
    return torch.device("cuda", env.local_rank)


def collective_timeout(value: float | None = None) -> float:
    if value is not None:
        return float(value)
    return float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_S)


def init(env: DistEnv, device: torch.device, timeout_s: float) -> dist.ProcessGroup:
    """Join the job (env:// rendezvous) and return the group training uses.

    CPU tensors always go through gloo (metrics, the checkpoint broadcast), CUDA
    tensors through NCCL. The default group gets a long timeout for setup; the
    training group the short one, so a dead peer cannot hang a step for long.
    """
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, timeout=timedelta(seconds=max(SETUP_TIMEOUT_S, timeout_s)))
    return dist.new_group(timeout=timedelta(seconds=timeout_s))


def barrier_cpu(group=None) -> None:
    """A barrier through a CPU all-reduce (dist.barrier would pick NCCL on CUDA jobs)."""
    dist.all_reduce(torch.zeros(1), group=group)


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_bytes(data: bytes, rank: int, group=None) -> bytes:
    size = torch.tensor([len(data) if rank == 0 else 0], dtype=torch.int64)
    dist.broadcast(size, 0, group=group)
    buf = torch.frombuffer(bytearray(data), dtype=torch.uint8) if rank == 0 \
        else torch.empty(int(size), dtype=torch.uint8)
    if int(size):
        dist.broadcast(buf, 0, group=group)
    return buf.numpy().tobytes()


class ShardedBatcher(Batcher):
    """This rank's share of a split; see the module docstring for the layout."""

    def __init__(self, x, y, batch_size, *, rank: int, world_size: int, equal_shares: bool, **kw):
        super().__init__(x, y, batch_size, **kw)
        self.total_n, self.shared_seed = self.n, self.seed
        self.rank, self.world_size = rank, world_size
        # Training drops the tail so every rank runs the same number of equal
        # batches (DDP's collectives must line up); validation keeps everything.
        self.usable = self.total_n - self.total_n % world_size if equal_shares else self.total_n
        self.n = len(range(rank, self.usable, world_size))
        # Augmentation draws differ per rank (rank 0 keeps the single-process stream).
        self.seed = self.shared_seed + 104_729 * rank

    def order(self, epoch: int) -> torch.Tensor:
        # Batcher.order permutes range(self.n) seeded by self.seed: give it the full split and
        # the shared seed, so the permutation is exactly the single-process one.
        n, seed = self.n, self.seed
        self.n, self.seed = self.total_n, self.shared_seed
        try:
            full = super().order(epoch)
        finally:
            self.n, self.seed = n, seed
        return full[:self.usable][self.rank::self.world_size].contiguous()


class StudioDDP(DistributedDataParallel):
    """DDP for training steps only; state_dict without the "module." prefix."""

    def __init__(self, module, *args, rank: int = 0, **kw):
        super().__init__(module, *args, **kw)
        self.studio_rank, self.studio_steps = rank, 0
        self.studio_fault = parse_fault(os.environ.get(FAULT_ENV, ""))

    def forward(self, *args, **kw):
        if not (self.training and torch.is_grad_enabled()):
            return self.module(*args, **kw)  # validation: no collectives, shards may differ
        self.studio_steps += 1
        fault = self.studio_fault
        if fault and fault[0] == self.studio_rank and fault[1] == self.studio_steps:
            os._exit(fault[2])  # test-only: a worker that dies without a word
        return super().forward(*args, **kw)

    def state_dict(self, *args, **kw):
        return self.module.state_dict(*args, **kw)

    def load_state_dict(self, *args, **kw):
        return self.module.load_state_dict(*args, **kw)


def parse_fault(text: str) -> tuple[int, int, int] | None:
    try:
        rank, step, code = (int(v) for v in text.split(":"))
    except ValueError:
        return None
    return rank, step, code


def is_comm_error(e: BaseException) -> bool:
    """A failed collective: the cause is (usually) another worker, not this one."""
    if isinstance(e, dist.DistError):
        return True
    text = str(e).lower()
    return isinstance(e, RuntimeError) and any(s in text for s in (
        "gloo", "nccl", "connection closed by peer", "connection reset", "broken pipe"))


class DistributedTrainer(Trainer):
    """The Trainer, with its hooks set for one of N processes (see the module docstring)."""
    CALIBRATE = False  # every rank must use the same memory format (DDP's gradient buckets)

    def __init__(self, project, dataset, env: DistEnv, group, *, out_dir=None, device=None, **kw):
        # Only rank 0 has a run folder: every write in Trainer is skipped without one.
        super().__init__(project, dataset, out_dir=out_dir if env.rank == 0 else None, device=device, **kw)
        self.env, self.group = env, group
        self.resume_folder = Path(out_dir) if out_dir else None

    @property
    def batch_size_per_process(self) -> int:
        return self.settings.batch_size // self.env.world_size

    @property
    def comm_failure(self) -> bool:
        """The run failed in a collective: the cause is (usually) another worker."""
        return self.failure is not None and is_comm_error(self.failure)

    def make_batcher(self, x, y, batch_size: int, *, train: bool, **kw) -> ShardedBatcher:
        env = self.env
        b = ShardedBatcher(x, y, self.batch_size_per_process if train else batch_size, rank=env.rank,
                           world_size=env.world_size, equal_shares=train, **kw)
        if train and b.n == 0:
            raise DistributedSetupError(f"{b.total_n} training examples cannot be shared "
                                        f"by {env.world_size} processes")
        return b

    def wrap_model(self, model: torch.nn.Module) -> torch.nn.Module:
        env, s = self.env, self.settings
        if env.rank:  # dropout masks must differ per rank, and be reproducible on resume
            torch.manual_seed((s.seed * 1_000_003 + env.rank * 7919 + self.step) % (2**63))
        ids = [self.device.index] if self.device.type == "cuda" else None
        return StudioDDP(model, device_ids=ids, process_group=self.group, rank=env.rank)

    def reduce(self, t: torch.Tensor) -> torch.Tensor:
        t = t.clone()
        dist.all_reduce(t, group=self.group)
        return t

    def before_validation(self) -> None:
        for b in self.model.module.buffers():  # e.g. BatchNorm statistics: validate with rank 0's everywhere
            dist.broadcast(b, 0, group=self.group)

    def read_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict]:
        """Rank 0 reads the checkpoint and sends it to the others (other machines have no copy)."""
        rank = self.env.rank
        data = b""
        if rank == 0:
            path = self.resume_folder / CHECKPOINT_FILE
            if not path.is_file() or path.is_symlink():  # a FIFO would block every rank
                raise CheckpointError(f"{path} is not a regular file; Studio only resumes from its own checkpoints")
            data = path.read_bytes()
        data = broadcast_bytes(data, rank)
        if rank == 0:
            return super().read_checkpoint()
        with tempfile.TemporaryDirectory(prefix="studio-resume-") as tmp:
            (Path(tmp) / CHECKPOINT_FILE).write_bytes(data)
            tensors, doc = load_checkpoint(Path(tmp))
        if doc.get("partial"):  # an interrupted epoch's sums are rank 0's to carry, not everyone's
            doc["partial"].update(loss=0.0, metric=0.0, count=0, seconds=0.0)
        return tensors, doc


def state_hash(module: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().to("cpu").contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def write_debug(trainer: DistributedTrainer) -> None:
    """Test hook: each rank records its final weights' hash, to show they all agree."""
    folder = os.environ.get(DEBUG_DIR_ENV)
    if not folder or trainer.model is None:
        return
    env = trainer.env
    doc = {"rank": env.rank, "world_size": env.world_size, "state_sha256": state_hash(trainer.model),
           "steps": trainer.step, "epochs": trainer.epoch, "train_examples": trainer.train_batches.n,
           "val_examples": trainer.val_batches.n, "status": trainer.result.status if trainer.result else None}
    Path(folder).mkdir(parents=True, exist_ok=True)
    write_atomic(Path(folder) / f"rank{env.rank}.json", json.dumps(doc).encode("utf-8"))
